import { describe, expect, it } from 'vitest';
import { DVS_DEFAULT_SLAB_SIZE_BYTES } from '../src/index.js';
describe('workspace', () => { it('resolves dvs from source', () => { expect(DVS_DEFAULT_SLAB_SIZE_BYTES).toBe(64 << 20); }); });
