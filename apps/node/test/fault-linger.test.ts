// FaultLinger's waiting rules, with eventfds standing in for the uffd and the loop's fds.
import type { DirectReceiver } from '@rackmem/krdma';
import { afterEach, describe, expect, it } from 'vitest';
import { EventFd } from '../src/native/eventfd.js';
import { FaultLinger } from '../src/pager/fault-linger.js';
import { PAGER_COUNTER, PagerCounters } from '../src/pager/stats.js';

const fds: EventFd[] = [];
function eventFd(): EventFd {
  const e = EventFd.create();
  fds.push(e);
  return e;
}

afterEach(() => {
  for (const e of fds.splice(0)) e.close();
});

describe('FaultLinger', () => {
  const options = { lingerMs: 5, maxTurnMs: 50, storageReplies: true, spinUs: 0 };

  it('reads the uffd once more before sleeping, unless the last faults wait for storage', () => {
    const uffd = eventFd();
    const doorbell = eventFd();
    const linger = new FaultLinger(uffd.fd, [doorbell.fd], options);
    let drains = 0;
    const drain = (): number => {
      drains++;
      return uffd.drain() > 0 ? 1 : 0;
    };
    // Nothing queued: read first (nothing), poll until quiet, back to the loop.
    expect(linger.serve(drain, () => true, () => true)).toBe(0);
    expect(drains).toBe(1);
    // A fetch is in flight: straight to the poll, no read.
    drains = 0;
    expect(linger.serve(drain, () => true, () => false)).toBe(0);
    expect(drains).toBe(0);
    // A fault queued while storage is busy still wakes the poll and is drained.
    uffd.ring();
    drains = 0;
    let served = 0;
    expect(linger.serve(() => (served += drain()), () => served === 0, () => false)).toBe(1);
    expect(drains).toBe(1);
  });

  it('returns to the loop when a loop fd (the doorbell) is ready, leaving it unread', () => {
    const uffd = eventFd();
    const doorbell = eventFd();
    const linger = new FaultLinger(uffd.fd, [doorbell.fd], options);
    doorbell.ring();
    expect(linger.serve(() => (uffd.drain() > 0 ? 1 : 0), () => true, () => false)).toBe(0);
    expect(doorbell.drain()).toBe(1); // the loop's poll callback reads it
  });

  it('polls without sleeping while a fault waits for storage, and sleeps once spinUs passed with nothing ready', () => {
    const uffd = eventFd();
    const doorbell = eventFd();
    const socket = eventFd(); // a storage connection
    const counters = new PagerCounters();
    let waiting = true; // a faulting thread waits for a reply
    let replies = 0;
    const io: DirectReceiver = {
      receiveFds: [socket.fd],
      receiveNow: () => {
        replies += socket.drain();
        waiting = false; // the reply completes the fault
        return 8;
      },
      endTurn: () => {},
    };
    const linger = new FaultLinger(uffd.fd, [doorbell.fd], { ...options, spinUs: 2000 }, io, counters);
    const spins = (): number => counters.slots[PAGER_COUNTER.storageSpins];
    const misses = (): number => counters.slots[PAGER_COUNTER.storageSpinMisses];
    // The reply is there: the spin finds it and the linger reads it.
    socket.ring();
    linger.serve(() => 0, () => waiting, () => false, () => waiting);
    expect([replies, spins(), misses()]).toEqual([1, 1, 0]);
    // Nothing comes: the spin gives up, the blocking poll times out, back to the loop.
    waiting = true;
    linger.serve(() => 0, () => true, () => false, () => waiting);
    expect([spins(), misses()]).toEqual([2, 1]);
    // No thread waits for storage (a write-back in flight, say): straight to the blocking poll.
    waiting = false;
    linger.serve(() => 0, () => true, () => false, () => waiting);
    expect(spins()).toBe(2);
    expect(counters.slots[PAGER_COUNTER.storageReceives]).toBe(1);
  });

  it('stops spinning for a while when replies keep outlasting the spin (a slow network), then tries again', () => {
    const uffd = eventFd();
    const socket = eventFd();
    const counters = new PagerCounters();
    const io: DirectReceiver = { receiveFds: [socket.fd], receiveNow: () => socket.drain() * 8, endTurn: () => {} };
    const linger = new FaultLinger(uffd.fd, [], { ...options, lingerMs: 1, spinUs: 20 }, io, counters);
    const spins = (): number => counters.slots[PAGER_COUNTER.storageSpins];
    const wait = (): void => void linger.serve(() => 0, () => true, () => false, () => true); // nothing ever comes
    for (let i = 0; i < 8; i++) wait();
    expect([spins(), counters.slots[PAGER_COUNTER.storageSpinMisses]]).toEqual([8, 8]);
    for (let i = 0; i < 64; i++) wait(); // backed off: straight to the blocking poll
    expect(spins()).toBe(8);
    wait(); // tried again
    expect(spins()).toBe(9);
  });
});
