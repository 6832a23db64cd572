#!/usr/bin/env node
// The `rackmem` command (bin). Everything is in cli/main.ts.
import { runCli } from './cli/main.js';

process.exitCode = await runCli(process.argv.slice(2));
