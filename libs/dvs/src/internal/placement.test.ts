import { describe, expect, it } from 'vitest';
import { fixedRandom } from '../../test/helpers.js';
import { createDramBackend } from './dram-backend.js';
import { DvsError } from './errors.js';
import { NodeRegistry } from './node-registry.js';
import { createPlacement } from './placement.js';

function registry(free: readonly number[]): NodeRegistry {
  return new NodeRegistry(free.map((capacityBytes, i) => createDramBackend({ nodeId: `n${i}`, capacityBytes })));
}
const ids = (bs: { nodeId: string }[]): string[] => bs.map((b) => b.nodeId);

describe('placement', () => {
  it('round-robin rotates over healthy nodes with room, with distinct replicas', () => {
    const reg = registry([100, 100, 10, 100]);
    const p = createPlacement('round-robin', reg, undefined);
    expect(ids(p.pick(1, 50, []))).toEqual(['n0']);
    expect(ids(p.pick(1, 50, []))).toEqual(['n1']);
    expect(ids(p.pick(1, 50, []))).toEqual(['n3']); // n2 is too full
    reg.markLost('n0');
    expect(ids(p.pick(2, 50, []))).toEqual(['n1', 'n3']);
    expect(ids(p.pick(3, 50, ['n1']))).toEqual(['n3']);
  });

  it('two-choices takes the freer of two distinct random nodes; ties go to the lower index', () => {
    const reg = registry([100, 400, 200]);
    expect(ids(createPlacement('two-choices', reg, fixedRandom([0, 0])).pick(1, 10, []))).toEqual(['n1']); // n0 vs n1
    expect(ids(createPlacement('two-choices', reg, fixedRandom([2, 0])).pick(1, 10, []))).toEqual(['n2']); // n2 vs n0
    const tie = registry([300, 300, 300]);
    expect(ids(createPlacement('two-choices', tie, fixedRandom([2, 1])).pick(1, 10, []))).toEqual(['n1']);
    const two = createPlacement('two-choices', reg, fixedRandom([0, 0]));
    expect(ids(two.pick(2, 10, []))).toEqual(['n1', 'n2']);
  });

  it('two-choices needs a random source and rejects a bad one', () => {
    const reg = registry([100, 100]);
    expect(() => createPlacement('two-choices', reg, undefined)).toThrow(DvsError);
    const bad = createPlacement('two-choices', reg, { intBelow: () => 7 });
    expect(() => bad.pick(1, 1, [])).toThrow(DvsError);
  });
});
