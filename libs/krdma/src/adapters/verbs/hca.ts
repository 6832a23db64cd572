// What a verbs endpoint and transport need from an opened device: its addressing (port, GID), a
// registrar of memory, and the control verbs that create, transition and destroy CQs and QPs.
// VerbsDevice implements it with libibverbs; the fake NIC implements it for tests without hardware.
import type { NativePointer } from './library.js';
import type { MemoryRegistrar } from './memory.js';
import type { QpCapacity, QpTransition } from './queue-pair.js';

/** Attributes of the port in use. */
export interface VerbsPortInfo {
  readonly portNum: number;
  /** IbvPortState value (4 = ACTIVE). */
  readonly state: number;
  readonly lid: number;
  /** IbvLinkLayer value (1 = InfiniBand, 2 = Ethernet / RoCE). */
  readonly linkLayer: number;
  /** IbvMtu code of the active MTU. */
  readonly activeMtu: number;
}

/** An opened host channel adapter (a real device, or the fake NIC in tests). */
export interface VerbsHca {
  /** Device name (`mlx5_0`, `fake0`, ...). */
  readonly name: string;
  /** The ibv_context whose ops table holds post_send, post_recv and poll_cq. */
  readonly context: NativePointer;
  readonly port: VerbsPortInfo;
  /** Port GID (16 bytes) at `gidIndex`. */
  readonly gid: Uint8Array;
  readonly gidIndex: number;
  /** Whether the port is Ethernet (RoCE: addressed by GID) rather than InfiniBand (by LID). */
  readonly isRoce: boolean;
  /** Registers memory with the device's protection domain. */
  readonly registrar: MemoryRegistrar;
  /** Creates a completion queue of `cqe` entries. */
  createCq(cqe: number): NativePointer;
  destroyCq(cq: NativePointer): void;
  /** Creates an RC queue pair whose completions go to `cq`. */
  createRcQp(cq: NativePointer, capacity: QpCapacity): { qp: NativePointer; qpn: number };
  destroyQp(qp: NativePointer): void;
  /** Applies a state transition (throws `verbs-call-failed`). */
  modifyQp(qp: NativePointer, transition: QpTransition): void;
  /** Releases the device (close every endpoint and release registered memory first). Idempotent. */
  close(): void;
}
