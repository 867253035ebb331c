/** bench/window-fleet-shape.ts `--table-settings`: a variant's settings become ALTERs, nothing else gets into the SQL. */
import { describe, expect, it } from 'vitest';
import { tableSettingStatements } from '../../bench/window-fleet-shape.ts';

describe('window-fleet-shape --table-settings', () => {
  it('applies an unqualified setting to both tables and a qualified one to its table', () => {
    expect(
      tableSettingStatements("merge_selector_base=10, labels:merge_selector_algorithm='StochasticSimple'"),
    ).toEqual([
      'ALTER TABLE scoring_events MODIFY SETTING merge_selector_base = 10',
      'ALTER TABLE labels MODIFY SETTING merge_selector_base = 10',
      "ALTER TABLE labels MODIFY SETTING merge_selector_algorithm = 'StochasticSimple'",
    ]);
    expect(tableSettingStatements('')).toEqual([]);
  });

  it('refuses anything but a plain name and a number or quoted word', () => {
    for (const bad of ['merge_selector_base=10; DROP TABLE labels', 'decisions:merge_selector_base=10', 'x=1 OR 1'])
      expect(() => tableSettingStatements(bad)).toThrow(/--table-settings/);
  });
});
