import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT, nodeHash, nodeIdentity } from './identity.js';

describe('node identity', () => {
  it('hashes names with 32-bit FNV-1a over UTF-8', () => {
    // Published FNV-1a 32-bit test vectors.
    expect(nodeHash('')).toBe(0x811c9dc5);
    expect(nodeHash('a')).toBe(0xe40c292c);
    expect(nodeHash('foobar')).toBe(0xbf9cf968);
    expect(nodeHash('é')).not.toBe(nodeHash('e'));
    expect(nodeIdentity('node-1')).toEqual({ nodeName: 'node-1', nodeHash: nodeHash('node-1') });
    expect(DEFAULT_PORT).toBe(7472);
  });
});
