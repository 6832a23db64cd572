#!/usr/bin/env node
// `npm start`: the main job. Until the production daemon (apps/node) lands, this runs the original
// RackMem touch example through the paging engine and dvs on local memory and prints the counters.
import { spawnSync } from 'node:child_process';

const result = spawnSync('npx', ['tsx', '--conditions=@rackmem/source', 'tools/examples/touch-example.ts'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
