import { describe, expect, it } from 'vitest';
import { FaultTimer } from '../src/runtime/fault-timer.js';

describe('fault timer', () => {
  it('times faults in any completion order and ignores pages it never started', () => {
    const t = new FaultTimer(8);
    t.start(10, 1.5);
    t.start(20, 2.5);
    t.start(30, 3.5);
    expect(t.finish(20)).toBe(2.5);
    expect(t.finish(99)).toBe(-1); // a prefetched page: never started
    expect(t.finish(30)).toBe(3.5);
    expect(t.finish(10)).toBe(1.5);
    expect(t.finish(10)).toBe(-1);
    expect(t.openCount).toBe(0);
  });

  it('tracks an untimed fault as waiting (the latency sample skips it) until it finishes', () => {
    const t = new FaultTimer(4);
    t.start(5, -1);
    expect(t.has(5)).toBe(true);
    expect(t.finish(5)).toBe(-1);
    expect(t.has(5)).toBe(false);
    expect(t.openCount).toBe(0);
  });

  it('keeps the first start of a fault reported twice', () => {
    const t = new FaultTimer(4);
    t.start(7, 1);
    t.start(7, 5);
    expect(t.openCount).toBe(1);
    expect(t.finish(7)).toBe(1);
  });

  it('counts faults beyond its capacity as untimed instead of growing', () => {
    const t = new FaultTimer(2);
    t.start(1, 1);
    t.start(2, 2);
    t.start(3, 3);
    expect(t.untimed).toBe(1);
    expect(t.finish(3)).toBe(-1);
    expect(t.finish(1)).toBe(1);
    t.start(3, 4); // room again
    expect(t.finish(3)).toBe(4);
    expect(t.finish(2)).toBe(2);
  });
});
