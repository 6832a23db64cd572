#!/usr/bin/env node
// The `rackmem-sim` command (bin). Everything is in internal/cli/main.ts.
import { runCli } from './internal/cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
