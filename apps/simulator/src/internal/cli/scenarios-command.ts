// rackmem-sim scenarios: the built-in scenarios, one per line, name first.

import { BUILTIN_SCENARIO_NAMES, builtinScenarios, builtinStudies } from '@rackmem/sim';
import type { Command } from 'commander';
import type { CliIo } from './io.js';

/** The listing: one line per built-in scenario, the name padded, then its description. */
export function scenarioListing(): string {
  const width = Math.max(...BUILTIN_SCENARIO_NAMES.map((n) => n.length));
  return BUILTIN_SCENARIO_NAMES.map((name) => `${name.padEnd(width)}  ${builtinScenarios[name].description}\n`).join('');
}

/** Adds `scenarios`. */
export function addScenariosCommand(program: Command, io: CliIo, wrap: (action: () => Promise<void>) => Promise<void>): void {
  program
    .command('scenarios')
    .description('list the built-in scenarios (name, then a short description); --studies lists the built-in studies')
    .option('--studies', 'list the built-in studies instead')
    .action((options: { studies?: boolean }) =>
      wrap(async () => {
        if (options.studies === true) {
          for (const study of Object.values(builtinStudies)) io.stdout(`${study.name}  ${study.description}\n`);
          return;
        }
        io.stdout(scenarioListing());
      }),
    );
}
