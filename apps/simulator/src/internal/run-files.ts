// Running one scenario in this thread and writing its files (result.json, timeseries.csv,
// summary.csv, report.html).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { runScenario, SimCheckError, traceFileOpener, WorkloadError, type Scenario, type SimResult } from '@rackmem/sim';
import { resultFileText } from './canonical-json.js';
import { CliFailure, usage } from './cli/errors.js';
import { EXIT_FAILURE } from './cli/io.js';
import { summaryCsv, timeSeriesCsv } from './csv.js';
import { createProgress } from './progress.js';
import { renderRunReport } from './report/run-report.js';

/** Names of the files `run` writes, in order. */
export const RUN_FILES = ['result.json', 'timeseries.csv', 'summary.csv', 'report.html'] as const;

/** A checker failure as the CLI reports it (exit 1, with the repro line). */
export class CheckFailure extends CliFailure {
  constructor(readonly check: SimCheckError) {
    super(EXIT_FAILURE, check.code, `check failed: ${check.message.split('\n')[0]}`);
  }
}

/** Runs a scenario with an optional progress bar; maps library errors to CLI failures. */
export function runWithProgress(scenario: Scenario, seed: string, baseDir: string, progressStream: NodeJS.WriteStream | undefined): SimResult {
  let bar: ReturnType<typeof createProgress> | undefined;
  try {
    return runScenario(scenario, {
      seed,
      openTraceSource: traceFileOpener(baseDir),
      progressEveryEvents: 100_000,
      onProgress: progressStream === undefined ? undefined : (p) => {
        if (bar === undefined) bar = createProgress(progressStream, scenario.name, p.accessesTotal ?? 0, 'accesses');
        if (p.accessesTotal !== undefined) bar.update(p.accessesDone, `${p.events} events, ${(p.simulatedNs / 1e6).toFixed(1)} ms simulated`);
        else bar.update(0, `${p.accessesDone} accesses, ${(p.simulatedNs / 1e6).toFixed(1)} ms simulated`);
      },
    });
  } catch (error) {
    if (error instanceof SimCheckError) throw new CheckFailure(error);
    if (error instanceof WorkloadError) throw usage('invalid-workload', `${scenario.name}: ${error.message}`);
    throw error;
  } finally {
    bar?.stop();
  }
}

/** Writes the run's files into `dir`; returns their paths relative to `cwd`. */
export function writeRunFiles(result: SimResult, dir: string, cwd: string, rerun: string): string[] {
  mkdirSync(dir, { recursive: true });
  const resultPath = join(dir, 'result.json');
  const replay = `rackmem-sim replay ${relative(cwd, resultPath) || resultPath}`;
  const contents: Record<(typeof RUN_FILES)[number], string> = {
    'result.json': resultFileText(result),
    'timeseries.csv': timeSeriesCsv(result),
    'summary.csv': summaryCsv(result),
    'report.html': renderRunReport(result, { rerun, replay }),
  };
  return RUN_FILES.map((name) => {
    const path = join(dir, name);
    writeFileSync(path, contents[name]);
    return relative(cwd, path) || path;
  });
}
