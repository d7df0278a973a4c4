/** Small text helpers shared by the tables. */

/** docker's Ellipsis: at most `max` characters, the last one `…` when cut. */
export function ellipsis(text: string, max: number): string {
  const chars = [...text];
  if (chars.length <= max) return text;
  return `${chars.slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** Go's strconv.Quote for the printable text docker shows in COMMAND. */
export function goQuote(text: string): string {
  return JSON.stringify(text);
}

/** `COMMAND` column: truncated to 20 characters, then quoted (docker's order). */
export function psCommand(command: string, truncate = true): string {
  return goQuote(truncate ? ellipsis(command, 20) : command);
}

/** 12-character ids, without an algorithm prefix (`sha256:`). */
export function shortId(id: string): string {
  const bare = id.includes(':') ? id.slice(id.indexOf(':') + 1) : id;
  return bare.slice(0, 12);
}
