import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Digest } from './digest.js';
import { Engine } from './engine.js';
import type { EventHandler } from './engine.js';
import { SimError } from './errors.js';
import { RandomStreams } from './random-stream.js';

/** Records (timeNs, label) of every processed event. */
function recorder(engine: Engine): { log: Array<[number, number]>; handler: EventHandler<number> } {
  const log: Array<[number, number]> = [];
  return { log, handler: { onEvent: (label: number) => log.push([engine.now(), label]) } };
}

function expectSimError(action: () => unknown, code: string): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(SimError);
  expect((caught as SimError).code).toBe(code);
}

describe('Engine ordering', () => {
  it('processes events in (time, insertion sequence) order, like a sorted reference', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ timeNs: fc.integer({ min: 0, max: 40 }), cancel: fc.boolean() }), { maxLength: 300 }),
        (specs) => {
          const engine = new Engine();
          const { log, handler } = recorder(engine);
          const ids = specs.map((spec, label) => engine.scheduleAt(spec.timeNs, handler, label));
          specs.forEach((spec, label) => {
            if (spec.cancel) expect(engine.cancel(ids[label])).toBe(true);
          });
          engine.run();
          const expected = specs
            .map((spec, label) => ({ ...spec, label }))
            .filter((spec) => !spec.cancel)
            .sort((a, b) => a.timeNs - b.timeNs || a.label - b.label)
            .map((spec): [number, number] => [spec.timeNs, spec.label]);
          expect(log).toEqual(expected);
          expect(engine.pendingCount).toBe(0);
          expect(engine.eventsProcessed).toBe(expected.length);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('matches a naive reference when handlers schedule and cancel further events', () => {
    // Each processed event consumes one "action": schedule a child at delay d, and optionally
    // cancel the pending event with the smallest label (a reference with a linear scan).
    const action = fc.record({ delayNs: fc.integer({ min: 0, max: 15 }), cancelOldest: fc.boolean() });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 15 }), { minLength: 1, maxLength: 30 }), fc.array(action, { maxLength: 200 }), (initial, actions) => {
        // Reference: a list of {time, seq, label}, min by (time, seq).
        type Ref = { timeNs: number; seq: number; label: number };
        const refLog: Array<[number, number]> = [];
        {
          let pending: Ref[] = initial.map((timeNs, i) => ({ timeNs, seq: i, label: i }));
          let seq = pending.length;
          let next = 0;
          while (pending.length > 0) {
            let best = 0;
            for (let i = 1; i < pending.length; i++) {
              const a = pending[i];
              const b = pending[best];
              if (a.timeNs < b.timeNs || (a.timeNs === b.timeNs && a.seq < b.seq)) best = i;
            }
            const event = pending[best];
            pending.splice(best, 1);
            refLog.push([event.timeNs, event.label]);
            if (next < actions.length) {
              const act = actions[next++];
              pending.push({ timeNs: event.timeNs + act.delayNs, seq, label: seq });
              seq++;
              if (act.cancelOldest && pending.length > 0) {
                const oldest = pending.reduce((m, e) => (e.label < m.label ? e : m));
                pending = pending.filter((e) => e !== oldest);
              }
            }
          }
        }
        const engine = new Engine();
        const log: Array<[number, number]> = [];
        const idByLabel = new Map<number, number>();
        let nextLabel = 0;
        let next = 0;
        const handler: EventHandler<number> = {
          onEvent(label) {
            idByLabel.delete(label);
            log.push([engine.now(), label]);
            if (next < actions.length) {
              const act = actions[next++];
              const child = nextLabel++;
              idByLabel.set(child, engine.schedule(act.delayNs, handler, child));
              if (act.cancelOldest && idByLabel.size > 0) {
                const oldest = Math.min(...idByLabel.keys());
                expect(engine.cancel(idByLabel.get(oldest) as number)).toBe(true);
                idByLabel.delete(oldest);
              }
            }
          },
        };
        for (const timeNs of initial) {
          const label = nextLabel++;
          idByLabel.set(label, engine.scheduleAt(timeNs, handler, label));
        }
        engine.run();
        expect(log).toEqual(refLog);
      }),
      { numRuns: 150 },
    );
  });

  it('runs events with equal times in FIFO order', () => {
    const engine = new Engine();
    const { log, handler } = recorder(engine);
    for (let i = 0; i < 100; i++) engine.scheduleAt(7, handler, i);
    engine.scheduleAt(3, handler, 1000);
    engine.run();
    expect(log[0]).toEqual([3, 1000]);
    expect(log.slice(1).map(([, label]) => label)).toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('orders an event scheduled at now from a handler after the events already at now', () => {
    const engine = new Engine();
    const order: string[] = [];
    engine.scheduleAt(5, () => {
      order.push('a');
      engine.schedule(0, () => order.push('c'));
    });
    engine.scheduleAt(5, () => order.push('b'));
    engine.run();
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('keeps order across growth beyond the initial capacity', () => {
    const engine = new Engine();
    const { log, handler } = recorder(engine);
    const streams = new RandomStreams('growth');
    const rng = streams.stream('times');
    const times = Array.from({ length: 5000 }, () => rng.intBelow(1000));
    times.forEach((timeNs, label) => engine.scheduleAt(timeNs, handler, label));
    engine.run();
    const expected = times.map((timeNs, label) => [timeNs, label]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(log).toEqual(expected);
  });

  it('delivers the argument and both integers to function and object handlers', () => {
    const engine = new Engine();
    const seen: unknown[] = [];
    engine.schedule(1, (arg: string, i0, i1) => seen.push([arg, i0, i1]), 'fn', 3, -4);
    engine.schedule(2, { kindId: 9, onEvent: (arg: { x: number }, i0, i1) => seen.push([arg.x, i0, i1]) }, { x: 1 }, 2 ** 40, 0);
    engine.run();
    expect(seen).toEqual([
      ['fn', 3, -4],
      [1, 2 ** 40, 0],
    ]);
  });
});

describe('Engine cancellation', () => {
  it('cancels the currently earliest event', () => {
    const engine = new Engine();
    const { log, handler } = recorder(engine);
    const first = engine.scheduleAt(1, handler, 1);
    engine.scheduleAt(2, handler, 2);
    engine.scheduleAt(3, handler, 3);
    expect(engine.cancel(first)).toBe(true);
    expect(engine.nextEventTimeNs()).toBe(2);
    engine.run();
    expect(log).toEqual([
      [2, 2],
      [3, 3],
    ]);
  });

  it('returns false for processed, already cancelled, unknown and currently running events', () => {
    const engine = new Engine();
    let selfId = -1;
    let selfCancel: boolean | undefined;
    const done = engine.schedule(1, () => undefined);
    selfId = engine.schedule(2, () => {
      selfCancel = engine.cancel(selfId);
    });
    const twice = engine.schedule(3, () => undefined);
    expect(engine.cancel(twice)).toBe(true);
    expect(engine.cancel(twice)).toBe(false);
    engine.run();
    expect(selfCancel).toBe(false);
    expect(engine.cancel(done)).toBe(false);
    expect(engine.cancel(123456789)).toBe(false);
    expect(engine.cancel(-1)).toBe(false);
    expect(engine.cancel(1.5)).toBe(false);
  });

  it('does not let a stale id cancel a later event that reuses its slot', () => {
    const engine = new Engine();
    const old = engine.schedule(1, () => undefined);
    engine.run();
    let ran = false;
    const fresh = engine.schedule(1, () => {
      ran = true;
    });
    expect(fresh).not.toBe(old);
    expect(engine.cancel(old)).toBe(false);
    engine.run();
    expect(ran).toBe(true);
  });

  it('compacts when tombstones exceed half the heap, keeping the order of the survivors', () => {
    const engine = new Engine();
    const { log, handler } = recorder(engine);
    const ids = Array.from({ length: 100 }, (_, i) => engine.scheduleAt(100 - (i % 10), handler, i));
    for (let i = 0; i < 50; i++) engine.cancel(ids[2 * i + 1]);
    expect(engine.tombstoneCount).toBe(50); // 50 * 2 is not > 100 yet
    expect(engine.pendingCount).toBe(50);
    engine.cancel(ids[0]);
    expect(engine.tombstoneCount).toBe(0); // 51 * 2 > 100: compacted
    expect(engine.pendingCount).toBe(49);
    engine.run();
    const survivors = Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 2 === 0 && i !== 0);
    const expected = survivors.map((i) => [100 - (i % 10), i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    expect(log).toEqual(expected);
  });

  it('compacts safely while a handler is running', () => {
    const engine = new Engine();
    const order: number[] = [];
    const ids: number[] = [];
    engine.scheduleAt(1, () => {
      for (const id of ids) engine.cancel(id);
      engine.schedule(0, () => order.push(2));
    });
    for (let i = 0; i < 10; i++) ids.push(engine.scheduleAt(5, () => order.push(99)));
    engine.scheduleAt(6, () => order.push(3));
    engine.run();
    expect(order).toEqual([2, 3]);
    expect(engine.tombstoneCount).toBe(0);
  });
});

describe('Engine run and step', () => {
  it('runs until a time inclusively, then sets the clock to it', () => {
    const engine = new Engine();
    const { log, handler } = recorder(engine);
    for (const t of [10, 20, 30]) engine.scheduleAt(t, handler, t);
    expect(engine.run({ untilNs: 20 })).toBe('until');
    expect(log).toEqual([
      [10, 10],
      [20, 20],
    ]);
    expect(engine.now()).toBe(20);
    expect(engine.run({ untilNs: 25 })).toBe('until');
    expect(engine.now()).toBe(25);
    expect(engine.run({ untilNs: 100 })).toBe('idle');
    expect(engine.now()).toBe(100);
    expect(log.length).toBe(3);
  });

  it('stops after maxEvents and on stop(), keeping the clock at the last event', () => {
    const engine = new Engine();
    const { log, handler } = recorder(engine);
    for (let t = 1; t <= 10; t++) engine.scheduleAt(t * 10, handler, t);
    expect(engine.run({ maxEvents: 3, untilNs: 1000 })).toBe('max-events');
    expect(engine.now()).toBe(30);
    expect(engine.run({ maxEvents: 0 })).toBe('max-events');
    expect(log.length).toBe(3);
    engine.scheduleAt(55, () => engine.stop());
    expect(engine.run()).toBe('stopped');
    expect(engine.now()).toBe(55);
    expect(engine.run()).toBe('idle');
    expect(engine.now()).toBe(100);
    expect(engine.eventsProcessed).toBe(11);
  });

  it('steps one event at a time', () => {
    const engine = new Engine();
    const { log, handler } = recorder(engine);
    engine.scheduleAt(4, handler, 1);
    engine.scheduleAt(2, handler, 2);
    expect(engine.step()).toBe(true);
    expect(engine.now()).toBe(2);
    expect(engine.step()).toBe(true);
    expect(engine.step()).toBe(false);
    expect(log).toEqual([
      [2, 2],
      [4, 1],
    ]);
  });

  it('rejects scheduling in the past and non-integer or unsafe times with typed errors', () => {
    const engine = new Engine();
    engine.scheduleAt(100, () => undefined);
    engine.run();
    expectSimError(() => engine.schedule(-1, () => undefined), 'schedule-in-past');
    expectSimError(() => engine.scheduleAt(99, () => undefined), 'schedule-in-past');
    expectSimError(() => engine.schedule(0.5, () => undefined), 'invalid-time');
    expectSimError(() => engine.schedule(Number.NaN, () => undefined), 'invalid-time');
    expectSimError(() => engine.scheduleAt(100.25, () => undefined), 'invalid-time');
    expectSimError(() => engine.schedule(Number.MAX_SAFE_INTEGER, () => undefined), 'invalid-time');
    expectSimError(() => engine.run({ untilNs: 50 }), 'schedule-in-past');
    expect(engine.pendingCount).toBe(0);
  });

  it('rejects run() or step() from inside a handler', () => {
    const engine = new Engine();
    let inner: unknown;
    engine.schedule(1, () => {
      try {
        engine.step();
      } catch (error) {
        inner = error;
      }
    });
    engine.run();
    expect((inner as SimError).code).toBe('reentrant-run');
  });

  it('stays consistent when a handler throws', () => {
    const engine = new Engine();
    const { log, handler } = recorder(engine);
    engine.scheduleAt(1, () => {
      throw new Error('boom');
    });
    engine.scheduleAt(2, handler, 2);
    engine.scheduleAt(3, handler, 3);
    expect(() => engine.run()).toThrow('boom');
    expect(engine.pendingCount).toBe(2);
    expect(engine.nextEventTimeNs()).toBe(2);
    engine.schedule(0, handler, 1);
    engine.run();
    expect(log).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });

  it('enforces its bound on pending events', () => {
    const engine = new Engine({ maxPendingEvents: 4 });
    const ids = [1, 2, 3, 4].map((t) => engine.scheduleAt(t, () => undefined));
    expectSimError(() => engine.scheduleAt(5, () => undefined), 'queue-full');
    engine.cancel(ids[0]);
    engine.scheduleAt(5, () => undefined);
    expect(engine.pendingCount).toBe(4);
    expectSimError(() => new Engine({ maxPendingEvents: 0 }), 'invalid-argument');
  });
});

describe('Engine perturbation mode', () => {
  function order(seed: string | null): Array<[number, number]> {
    const streams = new RandomStreams(seed ?? 'unused');
    const engine = new Engine(seed === null ? {} : { tieBreak: streams.stream('tie') });
    const { log, handler } = recorder(engine);
    for (let i = 0; i < 60; i++) engine.scheduleAt(10 * (i % 3), handler, i);
    engine.run();
    return log;
  }

  it('reorders only events with equal times, reproducibly for a seed', () => {
    const fifo = order(null);
    const a = order('seed-a');
    expect(order('seed-a')).toEqual(a);
    expect(a).not.toEqual(fifo);
    expect(order('seed-b')).not.toEqual(a);
    // Same multiset of events per time, times non-decreasing.
    for (let i = 1; i < a.length; i++) expect(a[i][0]).toBeGreaterThanOrEqual(a[i - 1][0]);
    const byTime = (log: Array<[number, number]>, t: number): number[] =>
      log.filter(([time]) => time === t).map(([, label]) => label).sort((x, y) => x - y);
    for (const t of [0, 10, 20]) expect(byTime(a, t)).toEqual(byTime(fifo, t));
  });

  it('leaves the order of events with distinct times unchanged', () => {
    const streams = new RandomStreams('distinct');
    const engine = new Engine({ tieBreak: streams.stream('tie') });
    const { log, handler } = recorder(engine);
    for (let i = 0; i < 200; i++) engine.scheduleAt(1000 - i, handler, i);
    engine.run();
    expect(log.map(([time]) => time)).toEqual(Array.from({ length: 200 }, (_, i) => 801 + i));
  });
});

describe('Engine digest', () => {
  function run(changeOne: boolean): string {
    const digest = new Digest();
    const engine = new Engine({ digest });
    const handler: EventHandler<undefined> = { kindId: 2, onEvent: () => undefined };
    for (let i = 0; i < 50; i++) engine.scheduleAt(i * 3, handler, undefined, i, changeOne && i === 37 ? 1 : 0);
    engine.run();
    return digest.hex();
  }

  it('is identical for identical runs and differs when one event differs', () => {
    expect(run(false)).toBe(run(false));
    expect(run(false)).not.toBe(run(true));
    expect(run(false)).toMatch(/^[0-9a-f]{8}$/);
  });

  it('mixes the kind id of each processed event', () => {
    const digests = [1, 2].map((kindId) => {
      const engine = new Engine();
      engine.schedule(5, { kindId, onEvent: () => undefined }, undefined);
      engine.run();
      return engine.digest.hex();
    });
    expect(digests[0]).not.toBe(digests[1]);
  });
});
