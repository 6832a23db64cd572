import { describe, expect, it } from 'vitest';
import { createDramBackend } from './dram-backend.js';
import { DvsError } from './errors.js';
import { NodeRegistry } from './node-registry.js';

describe('NodeRegistry', () => {
  it('tracks health and notifies subscribers once per change', () => {
    const reg = new NodeRegistry([createDramBackend({ nodeId: 'a', capacityBytes: 1 }), createDramBackend({ nodeId: 'b', capacityBytes: 1 })]);
    const events: string[] = [];
    const unsubscribe = reg.subscribe((id, h) => events.push(`${id}:${h}`));
    reg.markLost('a');
    reg.markLost('a');
    expect(reg.isHealthy('a')).toBe(false);
    expect(reg.healthyCount()).toBe(1);
    reg.markHealthy('a');
    reg.addNode(createDramBackend({ nodeId: 'c', capacityBytes: 1 }));
    expect(reg.indexOf('c')).toBe(2);
    unsubscribe();
    reg.markLost('b');
    expect(events).toEqual(['a:lost', 'a:healthy', 'c:healthy']);
    expect(() => reg.markLost('nope')).toThrow(DvsError);
    const e = reg.epoch('a');
    reg.markLost('a', e - 1); // stale evidence: ignored
    expect(reg.isHealthy('a')).toBe(true);
    reg.markLost('a', e);
    expect(reg.isHealthy('a')).toBe(false);
    expect(reg.epoch('a')).toBe(e + 1);
    expect(() => reg.addNode(createDramBackend({ nodeId: 'c', capacityBytes: 1 }))).toThrow(DvsError);
  });
});
