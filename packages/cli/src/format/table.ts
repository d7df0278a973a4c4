/**
 * Tables as docker lays them out: Go's tabwriter with minwidth 10, padding 3.
 * Every column but the last is as wide as its widest cell plus 3, and at
 * least 10; the last column is not padded.
 */
const MIN_WIDTH = 10;
const PADDING = 3;

export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, column) =>
    Math.max(MIN_WIDTH, ...all.map((row) => [...(row[column] ?? '')].length + PADDING)),
  );
  const lines = all.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell + ' '.repeat((widths[column] ?? 0) - [...cell].length)))
      .join(''),
  );
  return lines.map((line) => `${line}\n`).join('');
}

/** Go's encoding/json escapes <, > and & (HTML-safe); docker's JSON output shows `\u003cnone\u003e`. */
export function goJson(value: unknown): string {
  return JSON.stringify(value).replace(/[<>&]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`);
}

/** `--format json`: one compact JSON object per line, as docker prints them. */
export function formatJsonLines(objects: readonly object[]): string {
  return objects.map((o) => `${goJson(o)}\n`).join('');
}

/** `inspect`: the API objects as a JSON array, indented by 4 like docker's. */
export function formatInspect(objects: readonly unknown[]): string {
  return `${JSON.stringify(objects, null, 4)}\n`;
}
