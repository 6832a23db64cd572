// A standalone entry for the kv commands until they are wired into `rackmem`:
//   tsx --conditions=@rackmem/source src/kv/main.ts kv serve|bench [flags]
// (`npm run bench:kv -w @rackmem/node -- [flags]` runs `kv bench`).
import { Command } from 'commander';
import { registerKvCommands } from './commands.js';

const program = new Command('rackmem').description('rackmem kv commands');
registerKvCommands(program);
await program.parseAsync(process.argv.slice(2), { from: 'user' });
