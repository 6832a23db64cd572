import { defineProject } from 'vitest/config';

export default defineProject({
  ssr: { resolve: { conditions: ['@rackmem/source'] } },
  resolve: { conditions: ['@rackmem/source'] },
  test: { name: 'dvs', environment: 'node', include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
});
