// Byte sizes as operators write them: "64GiB", "512MiB", "1.5GiB", "16G" (binary, like the
// kernel's memparse), "10GB" (decimal), or plain bytes.

const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024, kib: 1024, kb: 1000,
  m: 1024 ** 2, mib: 1024 ** 2, mb: 1000 ** 2,
  g: 1024 ** 3, gib: 1024 ** 3, gb: 1000 ** 3,
  t: 1024 ** 4, tib: 1024 ** 4, tb: 1000 ** 4,
};

const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i;

/**
 * Parses a byte size: a non-negative safe integer, or a string of a number and an optional unit
 * (`B`, `KiB`/`K`, `MiB`/`M`, `GiB`/`G`, `TiB`/`T` are powers of 1024; `KB`, `MB`, `GB`, `TB`
 * powers of 1000). The result must be a whole number of bytes. Returns null when it is not a size.
 */
export function parseSize(input: unknown): number | null {
  if (typeof input === 'number') return Number.isSafeInteger(input) && input >= 0 ? input : null;
  if (typeof input !== 'string') return null;
  const match = SIZE_PATTERN.exec(input);
  if (match === null) return null;
  const unit = UNITS[match[2].toLowerCase()];
  if (unit === undefined) return null;
  const [whole, fraction = ''] = match[1].split('.');
  // Exact arithmetic for fractions: value = (whole * 10^d + fraction) * unit / 10^d.
  const scale = 10n ** BigInt(fraction.length);
  const numerator = (BigInt(whole) * scale + BigInt(fraction === '' ? '0' : fraction)) * BigInt(unit);
  if (numerator % scale !== 0n) return null;
  const bytes = numerator / scale;
  return bytes <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(bytes) : null;
}

/** Formats bytes with the largest binary unit that divides them exactly, else with two decimals ("1.50 GiB"). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let value = bytes;
  let unit = 0;
  while (unit < units.length - 1 && value >= 1024 && Number.isInteger(value / 1024)) {
    value /= 1024;
    unit++;
  }
  if (unit < units.length - 1 && value >= 1024) {
    while (unit < units.length - 1 && value >= 1024) {
      value /= 1024;
      unit++;
    }
    return `${value.toFixed(2)} ${units[unit]}`;
  }
  return `${value} ${units[unit]}`;
}
