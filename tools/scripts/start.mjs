#!/usr/bin/env node
// `npm start`: the main job. A local rack on 127.0.0.1 (two memory nodes, one compute node, each a
// process) runs the original RackMem examples with real userfaultfd paging over TCP, prints the
// counters and fault latencies, and stops. `npm start -- --engine-only` runs the touch example
// through the paging engine and dvs on local memory instead (no userfaultfd needed).
import { spawnSync } from 'node:child_process';

const engineOnly = process.argv.includes('--engine-only');
const entry = engineOnly ? 'tools/examples/touch-example.ts' : 'apps/node/src/demo/local-rack.ts';
const result = spawnSync(process.execPath, ['--import', 'tsx', '--conditions=@rackmem/source', entry], { stdio: 'inherit' });
process.exit(result.status ?? 1);
