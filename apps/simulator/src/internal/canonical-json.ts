// Canonical, pretty JSON for result files: object keys sorted at every level, two-space indent,
// a final newline. The same value always gives the same bytes (keys sorted as libs/sim's canonicalJson).
import { sortKeys } from '@rackmem/sim';

/** Canonical pretty JSON (sorted keys, 2-space indent, trailing newline). */
export function canonicalPrettyJson(value: unknown): string {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

/** Arrays of numbers on one line keep time series readable: [1, 2, 3] instead of one per line. */
export function compactNumberArrays(json: string): string {
  return json.replace(/\[\n\s+(-?[\d.e+-]+(?:,\n\s+-?[\d.e+-]+)*)\n\s+\]/g, (_m, body: string) => `[${body.split(/,\n\s+/).join(', ')}]`);
}

/** The text of a result file: canonical pretty JSON with number arrays on one line. */
export function resultFileText(value: unknown): string {
  return compactNumberArrays(canonicalPrettyJson(value));
}
