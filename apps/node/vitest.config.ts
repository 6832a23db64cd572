import { defineProject } from 'vitest/config';

export default defineProject({
  ssr: { resolve: { conditions: ['@rackmem/source'] } },
  resolve: { conditions: ['@rackmem/source'] },
  test: { name: 'node', environment: 'node', include: ['src/**/*.test.ts', 'test/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 },
});
