#!/usr/bin/env node
// `npm test`: lint, build and typecheck every project through Nx, then every Vitest project.
// Ends with the plain `N passed, N failed` line that CI reads (Vitest's own summary is not one
// of the formats CI recognises). Extra arguments go to Vitest (e.g. `npm test -- libs/vm`).
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync, existsSync } from 'node:fs';

const env = { ...process.env, NX_NO_CLOUD: 'true', NX_DAEMON: 'false', NX_TUI: 'false' };
const report = '.vitest-report.json';
let stepFailures = 0;

function step(title, cmd, args) {
  process.stdout.write(`\n== ${title}: ${cmd} ${args.join(' ')}\n`);
  const result = spawnSync(cmd, args, { stdio: 'inherit', env });
  if (result.status !== 0) {
    stepFailures += 1;
    process.stdout.write(`== ${title} FAILED (exit ${result.status ?? result.signal})\n`);
  }
  return result.status === 0;
}

step('lint', 'npx', ['eslint', '.']);
step('build + typecheck', 'npx', ['nx', 'run-many', '-t', 'build', 'typecheck', '--outputStyle=stream']);
rmSync(report, { force: true });
step('tests', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${report}`, ...process.argv.slice(2)]);

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests ?? 0;
  failed = json.numFailedTests ?? 0;
  skipped = (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0);
  // A suite that fails to load has no failed test but must still fail the run.
  const brokenSuites = (json.testResults ?? []).filter((r) => r.status === 'failed' && (r.assertionResults ?? []).every((a) => a.status !== 'failed')).length;
  failed += brokenSuites;
}
// Lint, build or typecheck failures count as failed checks too: a red step must never read green.
failed += stepFailures;
process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed === 0 ? 0 : 1);
