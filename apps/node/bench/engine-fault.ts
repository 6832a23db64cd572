// npm run bench:fault -w @rackmem/node [-- --pages N --rounds R --seq-pages N --remote-pages N]:
// the same as `rackmem bench fault` (src/bench/fault-bench.ts), from source.
import { runFaultBench } from '../src/bench/fault-bench.js';

const args = process.argv.slice(2);
const arg = (name: string): number | undefined => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const result = await runFaultBench({ pages: arg('pages'), rounds: arg('rounds'), seqPages: arg('seq-pages'), remotePages: arg('remote-pages') });
console.log(JSON.stringify(result, null, 2));
if (result.skipped) process.exitCode = 1;
