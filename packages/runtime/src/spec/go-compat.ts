// Small re-implementations of the Go library behaviour Docker's parsers rely
// on (path.Clean, encoding/csv, go-units RAMInBytes, strconv.ParseUint base 8),
// so that berth accepts and refuses exactly the same strings.

/** Go's `path.Clean`: lexical, '' becomes '.', no trailing slash except for '/'. */
export function goPathClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** Go's `path.IsAbs`. */
export function goIsAbs(p: string): boolean {
  return p.startsWith('/');
}

/** Go's `filepath.IsLocal` on Unix: relative, non-empty, and never leaving its directory lexically. */
export function goIsLocal(p: string): boolean {
  if (p === '' || goIsAbs(p)) return false;
  const clean = goPathClean(p);
  return clean !== '..' && !clean.startsWith('../');
}

export class CsvError extends Error {}

/**
 * The first record of Go's `encoding/csv` Reader with default settings
 * (comma ',', no lazy quotes): quoted fields may hold commas, `""` and
 * newlines; a bare quote in an unquoted field is an error. Empty input
 * yields Go's `EOF` error, as `docker run --mount ''` prints.
 */
export function readCsvRecord(input: string): string[] {
  const lines = input.replace(/\r\n/g, '\n').split('\n');
  let lineNo = 0;
  // Skip empty lines, as Go does.
  while (lineNo < lines.length && lines[lineNo] === '') lineNo++;
  if (lineNo >= lines.length) throw new CsvError('EOF');
  const startLine = lineNo + 1;
  const fail = (line: number, col: number, what: string): never => {
    const where = `parse error on line ${line}, column ${col}: ${what}`;
    throw new CsvError(startLine === line ? where : `record on line ${startLine}; ${where}`);
  };
  const byteCol = (text: string, index: number): number => Buffer.byteLength(text.slice(0, index)) + 1;

  const fields: string[] = [];
  let line = lines[lineNo] ?? '';
  let pos = 0;
  for (;;) {
    if (line[pos] !== '"') {
      const comma = line.indexOf(',', pos);
      const end = comma < 0 ? line.length : comma;
      const field = line.slice(pos, end);
      const quote = field.indexOf('"');
      if (quote >= 0) fail(lineNo + 1, byteCol(line, pos + quote), 'bare " in non-quoted-field');
      fields.push(field);
      if (comma < 0) return fields;
      pos = comma + 1;
      continue;
    }
    // Quoted field, possibly spanning lines.
    let value = '';
    pos++;
    for (;;) {
      const quote = line.indexOf('"', pos);
      if (quote >= 0) {
        value += line.slice(pos, quote);
        pos = quote + 1;
        const next = line[pos];
        if (next === '"') {
          value += '"';
          pos++;
          continue;
        }
        if (next === ',') {
          pos++;
          fields.push(value);
          break;
        }
        if (next === undefined) {
          fields.push(value);
          return fields;
        }
        fail(lineNo + 1, byteCol(line, pos), 'extraneous or missing " in quoted-field');
      }
      // No closing quote on this line: the field continues on the next one.
      value += line.slice(pos);
      if (lineNo + 1 >= lines.length) fail(lineNo + 1, byteCol(line, line.length), 'extraneous or missing " in quoted-field');
      value += '\n';
      lineNo++;
      line = lines[lineNo] ?? '';
      pos = 0;
    }
  }
}

const UNIT: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * go-units `RAMInBytes`: a decimal number, an optional space, an optional
 * binary unit k/m/g/t/p (case-insensitive) optionally followed by `b` or `ib`,
 * or a bare `b`. Returns undefined for anything else.
 */
export function ramInBytes(text: string): number | undefined {
  const m = /^(\d+(?:\.\d*)?|\.\d+) ?(?:([kmgtp])(?:i?b)?|b)?$/i.exec(text);
  if (m === null) return undefined;
  const number = Number(m[1]);
  const unit = m[2] === undefined ? 1 : (UNIT[m[2].toLowerCase()] ?? 1);
  const bytes = Math.trunc(number * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** `strconv.ParseUint(s, 8, 32)`: octal digits only, no prefix or sign, at most 2^32-1. */
export function parseOctalUint32(text: string): number | undefined {
  if (!/^[0-7]+$/.test(text)) return undefined;
  const value = parseInt(text, 8);
  return value <= 0xffff_ffff ? value : undefined;
}

/**
 * go-units `HumanDuration`, as `docker ps` and `docker images` print ages:
 * whole seconds and minutes rounded down, hours to the nearest, then days,
 * weeks, months and years by integer division.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(ms / 60_000);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(Math.floor(ms / 3_600_000) / 24 / 365)} years`;
}
