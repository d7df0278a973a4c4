/**
 * Sizes as docker prints them (go-units): decimal units, `%.<precision>g`.
 * `HumanSize` uses 4 significant digits ("Total reclaimed space"), the image
 * and df tables use 3 ("4.26MB").
 */
import { ramInBytes } from '@berth/runtime/spec';

const DECIMAL_UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'];

/** Go's `%.Ng`: N significant digits, trailing zeros dropped, exponent form when needed. */
export function formatG(value: number, precision: number): string {
  if (value === 0) return '0';
  const exponent = Math.floor(Math.log10(Math.abs(value)));
  const rounded = Number(value.toPrecision(precision));
  const roundedExponent = Math.floor(Math.log10(Math.abs(rounded)));
  if (roundedExponent < -4 || roundedExponent >= precision || exponent >= precision) {
    const [mantissa = '0', exp = '0'] = rounded.toExponential(precision - 1).split('e');
    const trimmed = mantissa.includes('.') ? mantissa.replace(/\.?0+$/, '') : mantissa;
    const expNumber = Number(exp);
    const sign = expNumber < 0 ? '-' : '+';
    return `${trimmed}e${sign}${String(Math.abs(expNumber)).padStart(2, '0')}`;
  }
  return String(rounded);
}

export function humanSize(bytes: number, precision = 4): string {
  let size = bytes;
  let unit = 0;
  while (size >= 1000 && unit < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    unit += 1;
  }
  return `${formatG(size, precision)}${DECIMAL_UNITS[unit]}`;
}

/** docker's `--memory` parsing (go-units RAMInBytes): binary units, optional `b` suffix. */
export function parseMemory(text: string): number {
  const bytes = ramInBytes(text.trim());
  if (bytes === undefined) {
    throw new Error(`invalid size '${text}': use a number with an optional unit b, k, m or g (for example 512m)`);
  }
  return bytes;
}
