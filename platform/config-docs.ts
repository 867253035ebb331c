import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeSettings } from './config.ts';
import { projectRoot } from './paths.ts';

/**
 * The settings reference, rendered from the declarations in `config.ts`: as the table that
 * `halflife config --docs` prints, and as README's configuration table, which sits between two
 * marker comments and is rewritten by `npm run docs:config` (a unit test fails when it is stale).
 */

/** Column headings of the settings table, in the terminal and in README. */
export const SETTINGS_TABLE_HEADERS = ['setting', 'environment variable', 'meaning and default'] as const;

export const README_FILE = path.join(projectRoot, 'README.md');

const BEGIN_MARKER = '<!-- settings table: generated from platform/config.ts by `npm run docs:config` -->';
const END_MARKER = '<!-- end of settings table -->';

/** README's settings table as Markdown, one row per setting. */
export function settingsTableMarkdown(): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const rows = describeSettings().map((s) => `| \`${s.key}\` | \`${s.env}\` | ${cell(s.doc)} |`);
  return [`| ${SETTINGS_TABLE_HEADERS.join(' | ')} |`, '|---|---|---|', ...rows].join('\n');
}

/** `readme` with the text between the markers replaced by the generated table. */
export function readmeWithSettingsTable(readme: string): string {
  const begin = readme.indexOf(BEGIN_MARKER);
  const end = readme.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`README has no "${BEGIN_MARKER}" … "${END_MARKER}" block`);
  return `${readme.slice(0, begin + BEGIN_MARKER.length)}\n\n${settingsTableMarkdown()}\n\n${readme.slice(end)}`;
}

// `npm run docs:config` (npx tsx platform/config-docs.ts --write-readme) rewrites README's table.
if (
  process.argv[1] !== undefined &&
  path.resolve(process.argv[1]) === fileURLToPath(import.meta.url) &&
  process.argv.includes('--write-readme')
) {
  writeFileSync(README_FILE, readmeWithSettingsTable(readFileSync(README_FILE, 'utf8')));
  console.log(`wrote the settings table in ${README_FILE}`);
}
