/**
 * @rackmem/simulator: the `rackmem-sim` command (run, scenarios, sweep, replay, compare, bench)
 * over the deterministic simulator `@rackmem/sim`, its result files (canonical JSON, CSV) and
 * self-contained HTML reports. The bin is `dist/cli.js`; this module exposes the pieces for
 * programs and tests.
 *
 * @packageDocumentation
 */

/** Runs the CLI with arguments and an I/O capture; resolves with the exit code. */
export { runCli } from './internal/cli/main.js';
/** The CLI's I/O and exit codes. */
export { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, processIo } from './internal/cli/io.js';
/** Where the CLI writes. */
export type { CliIo } from './internal/cli/io.js';
/** A CLI failure with its exit code. */
export { CliFailure } from './internal/cli/errors.js';
/** Canonical pretty JSON (sorted keys) and the exact text of a result file. */
export { canonicalPrettyJson, resultFileText } from './internal/canonical-json.js';
/** Reading scenario files and built-ins, field paths for --set / --vary. */
export { applySets, loadScenario, resolveFieldPath } from './internal/scenario-input.js';
/** A loaded scenario. */
export type { ScenarioInput } from './internal/scenario-input.js';
/** The key metrics of a result per region, and the summary table. */
export { regionSummary, resultSummaries, summaryTable, REGION_SUMMARY_COLUMNS } from './internal/summary.js';
/** One region's key metrics. */
export type { RegionSummary } from './internal/summary.js';
/** CSV of a run's time series and summary. */
export { summaryCsv, timeSeriesCsv } from './internal/csv.js';
/** The first difference between two results (replay). */
export { firstDifference } from './internal/diff.js';
/** A difference found by firstDifference. */
export type { Difference } from './internal/diff.js';
/** HTML reports of a run and of a sweep. */
export { renderRunReport } from './internal/report/run-report.js';
/** HTML report of a sweep. */
export { renderSweepReport } from './internal/report/sweep-report.js';
/** Sweep grids: --vary parsing, grids, studies, shards. */
export { buildGrid, parseShard, parseVary, shardPoints, studyPoints, sweepSeeds } from './internal/sweep/grid.js';
/** Sweep grid types. */
export type { Shard, SweepBase, SweepPoint, VaryAxis } from './internal/sweep/grid.js';
/** Runs sweep points on worker threads. */
export { runPool } from './internal/sweep/pool.js';
/** A sweep point's outcome. */
export type { PointOutcome } from './internal/sweep/pool.js';
