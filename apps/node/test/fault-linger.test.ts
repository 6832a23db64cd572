// FaultLinger's waiting rules, with eventfds standing in for the uffd and the loop's fds.
import { afterEach, describe, expect, it } from 'vitest';
import { EventFd } from '../src/native/eventfd.js';
import { FaultLinger } from '../src/pager/fault-linger.js';

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
  const options = { lingerMs: 5, maxTurnMs: 50, storageReplies: true };

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
});
