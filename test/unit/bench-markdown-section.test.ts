import { describe, expect, it } from 'vitest';
import { replaceSection } from '../../bench/lib/markdown-section.ts';

describe("BENCHMARKS.md's generated sections", () => {
  const text = ['# B', 'hand-written', '<!-- t:begin (generated) -->', 'old', 'rows', '<!-- t:end -->', 'after'].join(
    '\n',
  );

  it('replaces only the text between the markers, keeping both markers', () => {
    expect(replaceSection(text, 't', 'new table\n')).toBe(
      ['# B', 'hand-written', '<!-- t:begin (generated) -->', 'new table', '<!-- t:end -->', 'after'].join('\n'),
    );
  });

  it('names the missing markers instead of appending somewhere', () => {
    expect(() => replaceSection(text, 'other', 'x')).toThrow(/<!-- other:begin/);
  });
});
