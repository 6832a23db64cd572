// The `rackmem-sim run` command line that reruns one run.

import { shellQuote } from './format.js';

/** The command that reruns a run: source, seed and the --set overrides in order. */
export function rerunCommand(source: string, seed: string, sets: readonly string[]): string {
  return ['rackmem-sim', 'run', shellQuote(source), '--seed', shellQuote(seed), ...sets.flatMap((s) => ['--set', shellQuote(s)])].join(' ');
}
