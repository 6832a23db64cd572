import { describe, expect, it } from 'vitest';
import { TurnScheduler } from '../src/runtime/turn-scheduler.js';

describe('TurnScheduler (the pager fabric\'s deferred completions)', () => {
  it('runs deferred work in order at the end of the turn, or earlier on runNow, never twice', async () => {
    const s = new TurnScheduler();
    const ran: string[] = [];
    s.defer(() => ran.push('a'));
    s.defer(() => {
      ran.push('b');
      s.defer(() => ran.push('c')); // deferred from deferred work: runs in the same drain
    });
    expect(ran).toEqual([]); // never from inside defer
    s.runNow();
    expect(ran).toEqual(['a', 'b', 'c']);
    await Promise.resolve(); // the queued microtask finds nothing left
    expect(ran).toEqual(['a', 'b', 'c']);
    s.defer(() => ran.push('d'));
    await Promise.resolve();
    expect(ran).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a throwing completion does not lose the ones queued after it', () => {
    const s = new TurnScheduler();
    const ran: number[] = [];
    s.defer(() => ran.push(1));
    s.defer(() => {
      throw new Error('boom');
    });
    s.defer(() => ran.push(3));
    expect(() => s.runNow()).toThrow('boom');
    s.runNow();
    expect(ran).toEqual([1, 3]);
  });
});
