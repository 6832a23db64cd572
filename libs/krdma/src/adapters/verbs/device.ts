// Device discovery and the per-device objects: context, port attributes, GID, protection domain.
import koffi from 'koffi';
import { IbvLinkLayer, IbvPortState } from './abi.js';
import { VerbsError, callError, noDeviceError } from './errors.js';
import type { VerbsHca, VerbsPortInfo } from './hca.js';
import { loadVerbsLibrary, type NativePointer, type VerbsLibrary } from './library.js';
import { VerbsMemoryRegistrar, type MemoryRegistrar } from './memory.js';
import { forgetContextOps } from './ops.js';
import { createCq, createRcQp, modifyQp, type QpCapacity, type QpTransition } from './queue-pair.js';

export type { VerbsPortInfo } from './hca.js';

/** What device discovery found. */
export interface DeviceDiscovery {
  /** Names of the RDMA devices (`mlx5_0`, `rxe0`, ...), in the library's order. */
  readonly devices: readonly string[];
  /** errno of ibv_get_device_list when it returned NULL (38, ENOSYS: no RDMA in the kernel), else 0. */
  readonly errno: number;
}

function withDeviceList<T>(lib: VerbsLibrary, use: (devices: { name: string; pointer: NativePointer }[]) => T): T | VerbsError {
  const count = [0];
  koffi.errno(0);
  const list = lib.ibv_get_device_list(count);
  if (list === null) return noDeviceError(koffi.errno());
  try {
    const devices: { name: string; pointer: NativePointer }[] = [];
    for (let i = 0; i < count[0]; i += 1) {
      const pointer = koffi.decode(list, i * 8, 'void *') as NativePointer | null;
      if (pointer === null) break;
      devices.push({ name: lib.ibv_get_device_name(pointer) ?? `device${i}`, pointer });
    }
    return use(devices);
  } finally {
    lib.ibv_free_device_list(list);
  }
}

/**
 * Lists the RDMA devices. Throws only `libibverbs-missing`; no device (or no kernel support) is an
 * empty list with the errno.
 */
export function discoverRdmaDevices(): DeviceDiscovery {
  const lib = loadVerbsLibrary();
  const result = withDeviceList(lib, (devices) => devices.map((d) => d.name));
  if (result instanceof VerbsError) return { devices: [], errno: result.errno };
  return { devices: result, errno: 0 };
}

/** Options of {@link VerbsDevice.open}. */
export interface VerbsDeviceOptions {
  /** Device name; the first listed device when absent. */
  readonly deviceName?: string;
  /** Port number (1-based); default 1. */
  readonly portNum?: number;
  /** GID table index used for RoCE addressing; default 0. */
  readonly gidIndex?: number;
}

/** An opened RDMA device: context, port, GID and one protection domain. */
export class VerbsDevice implements VerbsHca {
  private closed = false;
  /** Registers memory with this device's protection domain (ibv_reg_mr). */
  readonly registrar: MemoryRegistrar;

  private constructor(
    readonly lib: VerbsLibrary,
    readonly name: string,
    readonly context: NativePointer,
    readonly pd: NativePointer,
    readonly port: VerbsPortInfo,
    readonly gid: Uint8Array,
    readonly gidIndex: number,
  ) {
    this.registrar = new VerbsMemoryRegistrar(lib, pd);
  }

  /**
   * Opens a device (the first, or `deviceName`), queries its port and GID and allocates a PD.
   * Throws `libibverbs-missing`, `no-rdma-device`, `device-not-found` or `verbs-call-failed`.
   */
  static open(options: VerbsDeviceOptions = {}): VerbsDevice {
    const lib = loadVerbsLibrary();
    const portNum = options.portNum ?? 1;
    const gidIndex = options.gidIndex ?? 0;
    const opened = withDeviceList(lib, (devices) => {
      if (devices.length === 0) throw noDeviceError(0);
      const device = options.deviceName === undefined ? devices[0] : devices.find((d) => d.name === options.deviceName);
      if (device === undefined) {
        throw new VerbsError('device-not-found', `RDMA device '${options.deviceName}' was not found; devices: ${devices.map((d) => d.name).join(', ')} (see \`ibv_devices\`)`);
      }
      koffi.errno(0);
      const context = lib.ibv_open_device(device.pointer);
      if (context === null) throw callError(`ibv_open_device(${device.name})`, koffi.errno(), 'check permissions on /dev/infiniband/uverbs*');
      return { name: device.name, context };
    });
    if (opened instanceof VerbsError) throw opened;
    const { name, context } = opened;
    try {
      const attr: Record<string, number> = {};
      const rc = lib.ibv_query_port(context, portNum, attr);
      if (rc !== 0) throw callError(`ibv_query_port(${name}, port ${portNum})`, rc === -1 ? koffi.errno() : rc);
      const port: VerbsPortInfo = { portNum, state: attr.state, lid: attr.lid, linkLayer: attr.link_layer, activeMtu: attr.active_mtu };
      if (port.state !== IbvPortState.ACTIVE) {
        throw new VerbsError('verbs-call-failed', `port ${portNum} of ${name} is not ACTIVE (state ${port.state}); check the link (\`ibv_devinfo\`)`);
      }
      const gid = new Uint8Array(16);
      const gidRc = lib.ibv_query_gid(context, portNum, gidIndex, gid);
      if (gidRc !== 0) throw callError(`ibv_query_gid(${name}, port ${portNum}, index ${gidIndex})`, koffi.errno());
      if (port.linkLayer === IbvLinkLayer.ETHERNET && gid.every((b) => b === 0)) {
        throw new VerbsError('verbs-call-failed', `GID index ${gidIndex} of ${name} is empty; RoCE needs a GID (pick another index, see \`show_gids\`)`);
      }
      koffi.errno(0);
      const pd = lib.ibv_alloc_pd(context);
      if (pd === null) throw callError(`ibv_alloc_pd(${name})`, koffi.errno());
      return new VerbsDevice(lib, name, context, pd, port, gid, gidIndex);
    } catch (err) {
      lib.ibv_close_device(context);
      throw err;
    }
  }

  /** Whether the port is Ethernet (RoCE: addressed by GID) rather than InfiniBand (by LID). */
  get isRoce(): boolean {
    return this.port.linkLayer === IbvLinkLayer.ETHERNET;
  }

  createCq(cqe: number): NativePointer {
    return createCq(this.lib, this.context, cqe);
  }

  destroyCq(cq: NativePointer): void {
    this.lib.ibv_destroy_cq(cq);
  }

  createRcQp(cq: NativePointer, capacity: QpCapacity): { qp: NativePointer; qpn: number } {
    return createRcQp(this.lib, this.pd, cq, capacity);
  }

  destroyQp(qp: NativePointer): void {
    this.lib.ibv_destroy_qp(qp);
  }

  modifyQp(qp: NativePointer, transition: QpTransition): void {
    modifyQp(this.lib, qp, transition);
  }

  /** Deallocates the PD and closes the context. Close every endpoint first. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.lib.ibv_dealloc_pd(this.pd);
    forgetContextOps(this.context);
    this.lib.ibv_close_device(this.context);
  }
}
