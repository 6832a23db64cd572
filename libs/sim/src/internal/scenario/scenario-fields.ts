// Setting one field of a scenario by path (`computeNodes[0].regions[0].localRatio`), for the
// CLI's --set and sweeps, and expanding a study into its grid.

import { builtinScenarios, type StudyDefinition } from './builtin-scenarios.js';
import type { Scenario } from './scenario.js';
import { ScenarioError, validateScenario } from './validate-scenario.js';

/** Splits `a.b[0].c` into ['a', 'b', 0, 'c']. */
export function parseFieldPath(path: string): (string | number)[] {
  const keys: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = /^([A-Za-z_][A-Za-z0-9_-]*)((?:\[\d+\])*)$/.exec(part);
    if (m === null) throw new ScenarioError(path, `is not a field path (use names and [index], e.g. computeNodes[0].regions[0].localRatio)`);
    keys.push(m[1]);
    for (const index of m[2].matchAll(/\[(\d+)\]/g)) keys.push(Number(index[1]));
  }
  return keys;
}

/** Reads a --set value: JSON when it parses (numbers, booleans, objects), else the string itself. */
export function parseFieldValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A copy of `scenario` (validated, or a raw scenario object) with the field at `path` set to
 * `value`, validated again (errors name the field). Intermediate objects are created as needed.
 */
export function setScenarioField(scenario: Scenario | Record<string, unknown>, path: string, value: unknown): Scenario {
  const base = JSON.parse(JSON.stringify(validateScenario(scenario))) as Record<string, unknown>;
  const keys = parseFieldPath(path);
  let node: Record<string | number, unknown> = base;
  for (let i = 0; i < keys.length - 1; i++) {
    const key = keys[i];
    let next = node[key];
    if (next === undefined) node[key] = next = typeof keys[i + 1] === 'number' ? [] : {};
    if (typeof next !== 'object' || next === null) throw new ScenarioError(keys.slice(0, i + 1).join('.'), 'is not an object; cannot set a field inside it');
    node = next as Record<string | number, unknown>;
  }
  node[keys[keys.length - 1]] = value;
  // A ratio set by a sweep must win over an explicit page count.
  if (keys[keys.length - 1] === 'localRatio') delete node['localPages'];
  return validateScenario(base);
}

/** One point of a study grid. */
export interface StudyPoint {
  /** e.g. `touch policySet=improved localRatio=0.5 network.preset=fdr56`. */
  label: string;
  /** The field values of this point, by path. */
  values: Record<string, string | number | boolean>;
  scenario: Scenario;
}

/** Expands a study into its grid: each scenario crossed with every combination of the varied values. */
export function studyGrid(study: StudyDefinition): StudyPoint[] {
  const points: StudyPoint[] = [];
  const paths = Object.keys(study.vary);
  for (const name of study.scenarios) {
    const builtin = builtinScenarios[name];
    if (builtin === undefined) throw new ScenarioError(`study ${study.name}.scenarios`, `'${name}' is not a built-in scenario`);
    let combos: Record<string, string | number | boolean>[] = [{}];
    for (const path of paths) combos = combos.flatMap((c) => study.vary[path].map((v) => ({ ...c, [path]: v })));
    for (const values of combos) {
      let scenario = validateScenario(builtin.scenario);
      for (const path of paths) scenario = setScenarioField(scenario, path, values[path]);
      const label = [name, ...paths.map((p) => `${p.replace(/^computeNodes\[0\]\.regions\[0\]\./, '')}=${String(values[p])}`)].join(' ');
      points.push({ label, values, scenario });
    }
  }
  return points;
}
