/** Names from a comma-separated option value, trimmed, empty ones dropped; `undefined` when the option was not given. */
export function commaList(value: string | undefined): string[] | undefined {
  return value === undefined
    ? undefined
    : value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
}
