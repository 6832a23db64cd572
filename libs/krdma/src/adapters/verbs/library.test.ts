import { describe, expect, it } from 'vitest';
import { discoverRdmaDevices, VerbsDevice } from './device.js';
import { noDeviceError, VerbsError } from './errors.js';
import { BOUND_SYMBOLS, INLINE_VERBS, LIBIBVERBS, loadVerbsLibrary, openVerbsLibrary, verbsLibraryAvailable } from './library.js';

const available = verbsLibraryAvailable();
if (!available) console.log(`[krdma verbs] skipping libibverbs tests: ${LIBIBVERBS} cannot be loaded (apt-get install libibverbs1 ibverbs-providers)`);

describe.skipIf(!available)('libibverbs.so.1 through koffi', () => {
  it('loads and every bound symbol resolves to a callable', () => {
    const lib = loadVerbsLibrary() as unknown as Record<string, unknown>;
    expect(BOUND_SYMBOLS.length).toBeGreaterThanOrEqual(17);
    for (const name of BOUND_SYMBOLS) expect(typeof lib[name], name).toBe('function');
  });

  it('does NOT export the inline verbs (they must go through the ops table)', () => {
    const { handle } = loadVerbsLibrary();
    expect(INLINE_VERBS).toEqual(expect.arrayContaining(['ibv_post_send', 'ibv_poll_cq']));
    for (const name of INLINE_VERBS) {
      expect(() => handle.func(`int ${name}(void *a, void *b, void *c)`), name).toThrow(/Cannot find function/);
    }
  });

  it('maps device discovery to the typed no-device error instead of crashing', () => {
    const discovery = discoverRdmaDevices();
    if (discovery.devices.length > 0) {
      // A machine with RDMA: opening the first device must work.
      const device = VerbsDevice.open();
      expect(discovery.devices).toContain(device.name);
      device.close();
      return;
    }
    let caught: unknown = null;
    try {
      VerbsDevice.open().close();
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(VerbsError);
    const err = caught as VerbsError;
    expect(err.code).toBe('no-rdma-device');
    expect(err.errno).toBe(discovery.errno);
    expect(err.message).toMatch(/no RDMA device was found/);
    expect(err.message).toMatch(/--transport tcp/);
    if (discovery.errno === 38) expect(err.message).toMatch(/ENOSYS \(38\).*kernel has no RDMA support/);
  });

  it('names a missing device with device-not-found or no-rdma-device', () => {
    expect(() => VerbsDevice.open({ deviceName: 'no-such-hca_9' })).toThrow(VerbsError);
  });
});

describe('verbs typed errors', () => {
  it('a missing library is libibverbs-missing and says what to install', () => {
    let caught: unknown = null;
    try {
      openVerbsLibrary('libibverbs-rackmem-absent.so.1');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(VerbsError);
    expect((caught as VerbsError).code).toBe('libibverbs-missing');
    expect((caught as VerbsError).message).toMatch(/apt-get install libibverbs1/);
  });

  it('explains ENOSYS, other errnos and an empty list', () => {
    expect(noDeviceError(38).message).toMatch(/ENOSYS \(38\): the kernel has no RDMA support/);
    expect(noDeviceError(13).message).toMatch(/EACCES \(13\)/);
    expect(noDeviceError(0).message).toMatch(/listed no devices/);
    for (const errno of [0, 13, 38]) expect(noDeviceError(errno).message).toMatch(/--transport tcp/);
  });
});
