import koffi from 'koffi';
import { describe, expect, it } from 'vitest';
import { IbvMtu, IbvQpState } from './abi.js';
import { DEFAULT_QP_TUNING, initTransition, pathMtu, rtrTransition, rtsTransition, type ConnectionInfo } from './queue-pair.js';
import { verbsTypes } from './structs.js';

const remote: ConnectionInfo = {
  lid: 0x12, qpn: 0x345, psn: 0xabcde, gid: Uint8Array.from({ length: 16 }, (_, i) => i + 1), activeMtu: IbvMtu.MTU_4096, roce: false,
  rkey: 9, address: 4096, lengthBytes: 4096, recvSlots: 8, messageBytes: 1024,
};

/** Encodes the attribute object as ibv_modify_qp would receive it and reads raw bytes back. */
function encoded(attr: Record<string, unknown>): Buffer {
  const type = verbsTypes().structs.ibv_qp_attr;
  const p = koffi.alloc(type, 1) as bigint;
  try {
    koffi.encode(p, type, attr);
    return Buffer.from(koffi.decode(p, koffi.array('uint8_t', koffi.sizeof(type)), ) as number[]);
  } finally {
    koffi.free(p);
  }
}

describe('QP state transitions (native.md §4.1)', () => {
  it('INIT: state, pkey index, port, access flags', () => {
    const t = initTransition();
    expect(t.mask).toBe(1 | 16 | 32 | 8);
    const raw = encoded(t.attr);
    expect(raw.readInt32LE(0)).toBe(IbvQpState.INIT);
    expect(raw.readInt32LE(32)).toBe(7);
    expect(raw[129]).toBe(1);
  });

  it('RTR on InfiniBand addresses the remote LID', () => {
    const t = rtrTransition({ activeMtu: IbvMtu.MTU_4096, roce: false }, remote);
    expect(t.mask).toBe(1 | 128 | 256 | (1 << 20) | (1 << 12) | (1 << 17) | (1 << 15));
    const raw = encoded(t.attr);
    expect(raw.readInt32LE(0)).toBe(IbvQpState.RTR);
    expect(raw.readInt32LE(8)).toBe(IbvMtu.MTU_1024);
    expect(raw.readUInt32LE(20)).toBe(remote.psn);
    expect(raw.readUInt32LE(28)).toBe(remote.qpn);
    expect(raw[127]).toBe(16);
    expect(raw[128]).toBe(12);
    expect(raw.readUInt16LE(56 + 24)).toBe(0x12);
    expect(raw[56 + 29]).toBe(0);
    expect(raw[56 + 30]).toBe(1);
  });

  it('RTR on RoCE uses a GRH with the remote GID, sgid index and hop limit 1', () => {
    const t = rtrTransition({ activeMtu: IbvMtu.MTU_1024, roce: true }, { ...remote, roce: true, lid: 0 }, { ...DEFAULT_QP_TUNING, gidIndex: 3 });
    const raw = encoded(t.attr);
    expect([...raw.subarray(56, 72)]).toEqual([...remote.gid]);
    expect(raw[56 + 20]).toBe(3);
    expect(raw[56 + 21]).toBe(1);
    expect(raw[56 + 29]).toBe(1);
    expect(raw.readUInt16LE(56 + 24)).toBe(0);
  });

  it('RTS: timeout 14, retry 7, rnr retry 7, sq psn, read depth', () => {
    const t = rtsTransition(0x1234);
    expect(t.mask).toBe(1 | 512 | 1024 | 2048 | (1 << 16) | (1 << 13));
    const raw = encoded(t.attr);
    expect(raw.readInt32LE(0)).toBe(IbvQpState.RTS);
    expect(raw.readUInt32LE(24)).toBe(0x1234);
    expect([raw[130], raw[131], raw[132], raw[126]]).toEqual([14, 7, 7, 16]);
  });

  it('path MTU is the smallest known of both ports and the cap', () => {
    expect(pathMtu(IbvMtu.MTU_4096, IbvMtu.MTU_2048, IbvMtu.MTU_4096)).toBe(IbvMtu.MTU_2048);
    expect(pathMtu(0, 0, IbvMtu.MTU_1024)).toBe(IbvMtu.MTU_1024);
  });
});
