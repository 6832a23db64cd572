import { describe, expect, it } from 'vitest';
import { currentCpu, currentThreadCpus, pinCurrentThread } from '../src/native/affinity.js';
import { ERRNO, errnoName, NativeError, UserfaultfdUnavailableError } from '../src/native/errors.js';
import { EventFd } from '../src/native/eventfd.js';
import { close, fallocate, ftruncate, libc, madvise, memfdCreate, mmap, residentPages } from '../src/native/libc.js';
import {
  FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, MADV_DONTNEED, MAP_ANONYMOUS, MAP_PRIVATE, MAP_SHARED, MFD_CLOEXEC, PROT_READ, PROT_WRITE,
} from '../src/native/constants.js';
import { MAX_VIEW_BYTES, RegionMemory, RegionMemoryError } from '../src/native/region-memory.js';
import { getS64, getU64, putU64 } from '../src/native/u64.js';
import { featureNames, ioctlNames } from '../src/native/uffd-probe.js';
import { describeWithUffd, probe } from './uffd-available.js';

describe('libc bindings', () => {
  it('load once and map errno to typed errors', () => {
    expect(libc()).toBe(libc());
    expect(libc().getpid()).toBe(process.pid);
    expect(libc().gettid()).toBeGreaterThan(0);
    expect(() => close(-1)).toThrowError(NativeError);
    try {
      close(-1);
    } catch (err) {
      expect((err as NativeError).code).toBe('EBADF');
      expect((err as NativeError).errno).toBe(9);
      expect((err as NativeError).message).toMatch(/close failed with EBADF .*file descriptor is closed/);
    }
    expect(() => mmap(0, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS)).toThrowError(/mmap failed with EINVAL/);
    expect(errnoName(ERRNO.EEXIST)).toBe('EEXIST');
    expect(errnoName(99999)).toBe('E99999');
  });

  it('map anonymous memory, drop pages with MADV_DONTNEED, report residency', () => {
    const r = RegionMemory.map(8 * 4096);
    const u8 = r.bytes(0, r.sizeBytes);
    expect(residentPages(r.address, r.sizeBytes).reduce((a, b) => a + (b & 1), 0)).toBe(0);
    u8[4096] = 42;
    expect(residentPages(r.address, r.sizeBytes)[1] & 1).toBe(1);
    madvise(r.address + 4096, 4096, MADV_DONTNEED);
    expect(u8[4096]).toBe(0);
    r.unmap();
  });

  it('memfd + shared mapping + hole punch', () => {
    const fd = memfdCreate('rackmem-test', MFD_CLOEXEC);
    ftruncate(fd, 4 * 4096);
    const addr = mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    const view = RegionMemory.attach(addr, 4 * 4096).bytes(0, 4 * 4096);
    view[0] = 7;
    view[4096] = 8;
    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096);
    expect(view[0]).toBe(0);
    expect(view[4096]).toBe(8);
    libc().munmap(addr, 4 * 4096);
    close(fd);
  });

  it('eventfd rings and drains', () => {
    const e = EventFd.create();
    expect(e.drain()).toBe(0);
    e.ring();
    e.ring();
    expect(e.drain()).toBe(2);
    e.close();
  });

  it('affinity: pin, read back, restore', () => {
    const all = currentThreadCpus();
    expect(all.length).toBeGreaterThan(0);
    pinCurrentThread([all[0]]);
    expect(currentThreadCpus()).toEqual([all[0]]);
    expect(currentCpu()).toBe(all[0]);
    pinCurrentThread(all);
    expect(currentThreadCpus()).toEqual(all);
    expect(() => pinCurrentThread([-1])).toThrowError(RangeError);
  });

  it('region views are at most 1 GiB and reject bad sizes', () => {
    expect(() => RegionMemory.map(1000)).toThrowError(RegionMemoryError);
    const r = RegionMemory.map(MAX_VIEW_BYTES + 8192); // NORESERVE: nothing is touched
    const views = r.arrayBuffers();
    expect(views.map((v) => v.byteLength)).toEqual([MAX_VIEW_BYTES, 8192]);
    expect(() => r.bytes(MAX_VIEW_BYTES - 4, 8)).toThrowError(/cross a 1 GiB view boundary/);
    r.bytes(MAX_VIEW_BYTES, 4)[0] = 5;
    expect(new Uint8Array(views[1])[0]).toBe(5);
    r.unmap();
  });

  it('u64 fields round-trip through two 32-bit halves', () => {
    const b = Buffer.alloc(8);
    for (const v of [0, 1, 0xffffffff, 0x1_0000_0000, 0x7fff_ffff_f000, 2 ** 53 - 1]) {
      putU64(b, 0, v);
      expect(b.readBigUInt64LE(0)).toBe(BigInt(v));
      expect(getU64(b, 0)).toBe(v);
    }
    b.writeBigInt64LE(-17n, 0);
    expect(getS64(b, 0)).toBe(-17);
  });

  it('unavailable userfaultfd explains how to allow it', () => {
    const err = new UserfaultfdUnavailableError('/dev/userfaultfd: EACCES; userfaultfd(2): EPERM');
    expect(err.code).toBe('userfaultfd-unavailable');
    expect(err.message).toMatch(/run as root/);
    expect(err.message).toMatch(/vm\.unprivileged_userfaultfd=1/);
    expect(err.message).toMatch(/\/dev\/userfaultfd/);
  });

  it('names feature and ioctl bits', () => {
    expect(featureNames((1 << 16) | (1 << 14))).toEqual(['POISON', 'MOVE']);
    expect(ioctlNames(0x8000000000000003n)).toEqual(['REGISTER', 'UNREGISTER', 'API']);
  });
});

describeWithUffd('userfaultfd probe', () => {
  it('reports the features of this kernel, including MOVE and POISON', () => {
    expect(probe.available).toBe(true);
    expect(probe.ioctlNames).toEqual(expect.arrayContaining(['API', 'REGISTER', 'UNREGISTER']));
    expect(probe.featureNames).toContain('PAGEFAULT_FLAG_WP');
    // The development and CI kernels are 6.18: MOVE (6.8) and POISON (6.6) must be there.
    expect(probe.featureNames).toEqual(expect.arrayContaining(['MOVE', 'POISON', 'WP_ASYNC']));
    expect(['device', 'syscall']).toContain(probe.source);
  });
});
