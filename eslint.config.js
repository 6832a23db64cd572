// Lint rules for the whole workspace. The second block is the determinism rule of DESIGN.md §2:
// the decision code under libs/*/src (except the I/O edges in src/adapters) must not read clocks,
// arm timers, draw ambient randomness or perform I/O. Time and randomness come in as arguments.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ioModules = [
  'fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'net', 'node:net', 'dgram', 'node:dgram',
  'http', 'node:http', 'https', 'node:https', 'http2', 'node:http2', 'child_process',
  'node:child_process', 'worker_threads', 'node:worker_threads', 'timers', 'node:timers',
  'timers/promises', 'node:timers/promises', 'perf_hooks', 'node:perf_hooks', 'os', 'node:os',
  'cluster', 'node:cluster', 'readline', 'node:readline', 'koffi',
];

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'docs/**', '.nx/**', 'out/**', '**/*.d.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', performance: 'readonly', URL: 'readonly', structuredClone: 'readonly', SharedArrayBuffer: 'readonly', Atomics: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly', AbortController: 'readonly', queueMicrotask: 'readonly', fetch: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['libs/*/src/**/*.ts'],
    ignores: ['libs/*/src/adapters/**', 'libs/*/src/**/*.test.ts'],
    rules: {
      'no-restricted-globals': ['error',
        { name: 'Date', message: 'Cores take time as an argument (integer ns); see DESIGN.md §2.' },
        { name: 'setTimeout', message: 'Cores have no timers; the runtime schedules.' },
        { name: 'setInterval', message: 'Cores have no timers; the runtime schedules.' },
        { name: 'setImmediate', message: 'Cores have no timers; the runtime schedules.' },
        { name: 'queueMicrotask', message: 'Cores are synchronous state machines.' },
        { name: 'performance', message: 'Cores take time as an argument (integer ns).' },
        { name: 'process', message: 'Cores do not touch the process (env, hrtime, exit).' },
        { name: 'fetch', message: 'Cores do no I/O.' },
        { name: 'crypto', message: 'Cores take randomness as a named seeded stream.' },
      ],
      'no-restricted-properties': ['error',
        { object: 'Math', property: 'random', message: 'Use a named seeded random stream passed in.' },
        { object: 'Date', property: 'now', message: 'Cores take time as an argument (integer ns).' },
        { object: 'process', property: 'hrtime', message: 'Cores take time as an argument (integer ns).' },
      ],
      'no-restricted-imports': ['error', {
        paths: [
          ...ioModules.map((name) => ({ name, message: 'Cores do no I/O; put it in src/adapters or an app.' })),
          ...['crypto', 'node:crypto'].map((name) => ({
            name,
            importNames: ['randomBytes', 'randomUUID', 'randomInt', 'randomFillSync', 'randomFill', 'getRandomValues', 'webcrypto'],
            message: 'Cores take randomness as a named seeded stream.',
          })),
        ],
      }],
    },
  },
);
