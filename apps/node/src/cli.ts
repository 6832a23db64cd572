#!/usr/bin/env node
// The `rackmem` command (bin). Everything is in cli/main.ts; the daemon gets the paged-region runtime.
import { runCli } from './cli/main.js';
import { processIo } from './cli/io.js';
import { PagedRegionService } from './region/region-service.js';

process.exitCode = await runCli(process.argv.slice(2), { ...processIo(), regions: (context) => new PagedRegionService(context) });
