// Reading a scenario: a YAML or JSON file, or the name of a built-in one; field paths for --set
// and --vary (with region shorthands); applying overrides. Every problem is a usage error (exit 2)
// that names the file and the bad field.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import {
  BUILTIN_SCENARIO_NAMES, builtinScenarios, parseFieldPath, parseFieldValue, ScenarioError, setScenarioField, validateScenario,
  type Scenario,
} from '@rackmem/sim';
import { parseDocument } from 'yaml';
import { usage } from './cli/errors.js';

/** A scenario read from the command line. */
export interface ScenarioInput {
  /** The validated scenario (overrides applied by the caller). */
  scenario: Scenario;
  /** How it was named on the command line (file path or built-in name). */
  source: string;
  /** Directory against which trace files of the scenario are resolved. */
  baseDir: string;
  builtin: boolean;
}

/** Parses the text of a scenario file (YAML is a superset of JSON; `.json` files are parsed as JSON). */
export function parseScenarioText(text: string, file: string): unknown {
  if (extname(file).toLowerCase() === '.json') {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw usage('invalid-scenario-file', `${file}: not valid JSON: ${(error as Error).message}`);
    }
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) throw usage('invalid-scenario-file', `${file}: not valid YAML: ${doc.errors[0].message.split('\n')[0]}`);
  return doc.toJS({ maxAliasCount: 1000 });
}

/** Validates a scenario value; errors name the file and the field. */
export function validateIn(value: unknown, where: string): Scenario {
  try {
    return validateScenario(value);
  } catch (error) {
    if (error instanceof ScenarioError) throw usage('invalid-scenario', `${where}: ${error.message}`);
    throw usage('invalid-scenario', `${where}: ${(error as Error).message}`);
  }
}

/** Reads `arg`: an existing file (YAML or JSON), else a built-in scenario name. */
export function loadScenario(arg: string, cwd: string): ScenarioInput {
  const path = resolve(cwd, arg);
  const looksLikeFile = /[/\\]|\.(ya?ml|json)$/i.test(arg);
  if (existsSync(path) && (looksLikeFile || !(arg in builtinScenarios))) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw usage('unreadable-scenario-file', `${arg}: cannot read: ${(error as Error).message}`);
    }
    const value = parseScenarioText(text, arg);
    return { scenario: validateIn(value, arg), source: arg, baseDir: dirname(path), builtin: false };
  }
  const builtin = builtinScenarios[arg];
  if (builtin !== undefined) return { scenario: validateIn(builtin.scenario, `built-in scenario ${arg}`), source: arg, baseDir: cwd, builtin: true };
  if (looksLikeFile) throw usage('no-such-scenario', `${arg}: no such file`);
  throw usage('no-such-scenario', `${arg}: neither a scenario file nor a built-in scenario (built-in: ${BUILTIN_SCENARIO_NAMES.join(', ')}; see "rackmem-sim scenarios")`);
}

const TOP_LEVEL_FIELDS = new Set([
  'name', 'description', 'network', 'faultPath', 'memoryNodes', 'computeNodes', 'mmu', 'faults', 'healAtNs', 'buggify', 'swarm', 'run', 'testOnly',
]);

/**
 * The full field path for `path` in `scenario`: top-level paths as they are; `regions[i].x` is the
 * i-th region over all compute nodes; any other path is a field of the only region
 * (`localRatio`, `workload.pageCount`).
 */
export function resolveFieldPath(scenario: Scenario, path: string): string {
  let keys: (string | number)[];
  try {
    keys = parseFieldPath(path);
  } catch (error) {
    throw usage('invalid-field-path', (error as Error).message);
  }
  const first = keys[0] as string;
  if (TOP_LEVEL_FIELDS.has(first)) return path;
  const regions: string[] = [];
  scenario.computeNodes.forEach((c, ci) => c.regions.forEach((_r, ri) => regions.push(`computeNodes[${ci}].regions[${ri}]`)));
  if (first === 'regions') {
    const index = keys[1];
    if (typeof index !== 'number') throw usage('invalid-field-path', `${path}: use regions[i].<field> (i counts regions over all compute nodes)`);
    if (index >= regions.length) throw usage('invalid-field-path', `${path}: the scenario has ${regions.length} region(s)`);
    return regions[index] + path.slice(path.indexOf(']') + 1);
  }
  if (regions.length !== 1) {
    throw usage('invalid-field-path', `${path}: not a top-level scenario field, and the scenario has ${regions.length} regions: name one with regions[i].${path}`);
  }
  return `${regions[0]}.${path}`;
}

/** Splits `key=value` (at the first '='). */
export function splitAssignment(text: string, flag: string): { key: string; value: string } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw usage('invalid-assignment', `${flag} ${text}: expected key=value, e.g. ${flag} localRatio=0.5`);
  return { key: text.slice(0, eq).trim(), value: text.slice(eq + 1) };
}

/** Sets one field (path resolved with resolveFieldPath); errors name the field. */
export function setField(scenario: Scenario, key: string, value: unknown, where: string): Scenario {
  const path = resolveFieldPath(scenario, key);
  try {
    return setScenarioField(scenario, path, value);
  } catch (error) {
    if (error instanceof ScenarioError) throw usage('invalid-scenario', `${where}: ${error.message}`);
    throw error;
  }
}

/** Applies `--set key=value` overrides in order. */
export function applySets(scenario: Scenario, sets: readonly string[]): Scenario {
  let out = scenario;
  for (const text of sets) {
    const { key, value } = splitAssignment(text, '--set');
    out = setField(out, key, parseFieldValue(value), `--set ${text}`);
  }
  return out;
}
