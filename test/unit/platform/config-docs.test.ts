import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { describeSettings } from '../../../platform/config.ts';
import { README_FILE, readmeWithSettingsTable, settingsTableMarkdown } from '../../../platform/config-docs.ts';

describe('settings reference', () => {
  it("README's settings table is the generated one (regenerate: npm run docs:config)", () => {
    const readme = readFileSync(README_FILE, 'utf8');
    expect(readme).toBe(readmeWithSettingsTable(readme));
  });

  it('has one row per setting, each with its variable and its default or what unset means', () => {
    const rows = settingsTableMarkdown().split('\n').slice(2);
    const settings = describeSettings();
    expect(rows.length).toBe(settings.length);
    for (const [i, s] of settings.entries()) {
      expect(rows[i], s.key).toBe(`| \`${s.key}\` | \`${s.env}\` | ${s.doc} |`);
      expect(s.doc, s.key).toMatch(/ (Default .+|Unset: .+)\.$/);
    }
  });

  it('refuses a README without the markers', () => {
    expect(() => readmeWithSettingsTable('# no table here\n')).toThrow(/settings table/);
  });
});
