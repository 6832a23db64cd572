// Canonical JSON (keys sorted at every level) and the scenario digest derived from it.

import { fnv1a32String } from '../digest.js';

/** JSON with object keys sorted at every level: the same value always gives the same text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

/** A copy of `value` with object keys sorted at every level and undefined fields dropped. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** 8 hex characters: 32-bit FNV-1a of the scenario's canonical JSON. */
export function scenarioDigest(scenario: unknown): string {
  return fnv1a32String(canonicalJson(scenario)).toString(16).padStart(8, '0');
}
