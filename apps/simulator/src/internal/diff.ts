// The first difference between two JSON values (keys in sorted order), for replay.

/** Where two values first differ: a path like `regions[0].faults` and both values (JSON text, shortened). */
export interface Difference {
  path: string;
  expected: string;
  actual: string;
}

function show(value: unknown): string {
  const text = value === undefined ? 'absent' : JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** The first difference, or undefined when `expected` and `actual` are equal as JSON. */
export function firstDifference(expected: unknown, actual: unknown, path = ''): Difference | undefined {
  if (Object.is(expected, actual)) return undefined;
  const bothArrays = Array.isArray(expected) && Array.isArray(actual);
  const bothObjects = !bothArrays && typeof expected === 'object' && typeof actual === 'object' && expected !== null && actual !== null && !Array.isArray(expected) && !Array.isArray(actual);
  if (bothArrays) {
    const a = expected as unknown[];
    const b = actual as unknown[];
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const d = firstDifference(a[i], b[i], `${path}[${i}]`);
      if (d !== undefined) return d;
    }
    if (a.length !== b.length) return { path: `${path}.length`, expected: String(a.length), actual: String(b.length) };
    return undefined;
  }
  if (bothObjects) {
    const a = expected as Record<string, unknown>;
    const b = actual as Record<string, unknown>;
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const key of keys) {
      const d = firstDifference(a[key], b[key], path === '' ? key : `${path}.${key}`);
      if (d !== undefined) return d;
    }
    return undefined;
  }
  return { path: path === '' ? '(root)' : path, expected: show(expected), actual: show(actual) };
}
