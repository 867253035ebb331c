/**
 * Generated sections of BENCHMARKS.md: the text between `<!-- NAME:begin … -->` and
 * `<!-- NAME:end -->` is replaced by a benchmark's `--write-md`; everything outside stays hand-written.
 */
export function replaceSection(text: string, name: string, body: string): string {
  const beginMarker = `<!-- ${name}:begin`;
  const endMarker = `<!-- ${name}:end -->`;
  const begin = text.indexOf(beginMarker);
  const end = text.indexOf(endMarker);
  if (begin < 0 || end < begin)
    throw new Error(
      `BENCHMARKS.md has no "${beginMarker} … -->" … "${endMarker}" pair: add the two markers where the generated ${name} section goes`,
    );
  const headerEnd = text.indexOf('-->', begin) + 3;
  return `${text.slice(0, headerEnd)}\n${body.trimEnd()}\n${text.slice(end)}`;
}
