// A deterministic rack for loopback tests: a FIFO queue scheduler run by hand, seeded nonces,
// random chunking of frames, and a helper that checks completions are asynchronous and single.
import seedrandom from 'seedrandom';
import { LoopbackNetwork, type LoopbackNetworkOptions } from '../src/internal/loopback/network.js';
import type { Scheduler } from '../src/internal/session/ports.js';

export const SECRET = new TextEncoder().encode('rackmem test cluster secret 0001');
export const OTHER_SECRET = new TextEncoder().encode('some other secret, wrong cluster');

export interface Rack {
  network: LoopbackNetwork;
  /** Runs deferred work until the queue is empty. */
  run(): void;
  /** Posts work, runs the queue and returns the single completion's arguments. */
  call<A extends unknown[]>(post: (done: (...args: A) => void) => void): A;
  random: (bound: number) => number;
}

export function makeRack(options: Partial<LoopbackNetworkOptions> = {}, seed = 'rack'): Rack {
  const queue: (() => void)[] = [];
  let head = 0;
  const scheduler: Scheduler = { defer: (fn) => void queue.push(fn) };
  const rng = seedrandom(seed);
  const random = (bound: number): number => Math.floor(rng() * bound);
  const network = new LoopbackNetwork({
    scheduler,
    nonceSource: (into) => {
      for (let i = 0; i < into.length; i++) into[i] = random(256);
    },
    chunking: { maxChunkBytes: 61, randomBelow: random },
    ...options,
  });
  const run = (): void => {
    let steps = 0;
    while (head < queue.length) {
      const fn = queue[head];
      queue[head++] = () => {};
      fn();
      if (++steps > 5_000_000) throw new Error('scheduler queue does not drain');
    }
    queue.length = 0;
    head = 0;
  };
  const call = <A extends unknown[]>(post: (done: (...args: A) => void) => void): A => {
    let result: A | null = null;
    let count = 0;
    post((...args: A) => {
      count++;
      result = args;
    });
    if (result !== null) throw new Error('completion ran inside the posting call');
    run();
    if (count !== 1 || result === null) throw new Error(`expected exactly one completion, got ${count}`);
    return result;
  };
  return { network, run, call, random };
}

/** FNV-1a 32 checksum of bytes. */
export function checksum(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i], 0x01000193);
  return hash >>> 0;
}
