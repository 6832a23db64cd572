// The public surface of the verbs binding (re-exported by the package's src/index.ts).

/** Typed errors of the verbs binding. */
export { VerbsError, type VerbsErrorCode } from './errors.js';
/** Loading libibverbs.so.1 and what is bound from it. */
export { BOUND_SYMBOLS, INLINE_VERBS, LIBIBVERBS, loadVerbsLibrary, verbsLibraryAvailable, type NativePointer, type VerbsLibrary } from './library.js';
/** ABI constants and the checked-in layout table. */
export {
  IBV_CONTEXT_OPS_OFFSETS, IBV_WC_STATUS_NAMES, IbvAccess, IbvLinkLayer, IbvMtu, IbvQpAttrMask, IbvQpState, IbvWcStatus, IbvWrOpcode,
  LAYOUT_TABLE, type StructLayout,
} from './abi.js';
/** Device discovery and the opened device. */
export { VerbsDevice, discoverRdmaDevices, type DeviceDiscovery, type VerbsDeviceOptions, type VerbsPortInfo } from './device.js';
/** Status mapping of work completions. */
export { statusOfWc, wcStatusText } from './wc-status.js';
/** Connection info and QP tuning. */
export { DEFAULT_QP_TUNING, type ConnectionInfo, type QpTuning } from './queue-pair.js';
/** One RC connection, and the transport that sets them up over the TCP side channel. */
export { VerbsEndpoint, type VerbsEndpointOptions, type VerbsEndpointState } from './endpoint.js';
export { RdmaTransport, type RdmaTransportOptions } from './transport.js';
export type { ChannelRpcHandler, RegionRead, RegionWrite, RemoteRegion } from './channel.js';
/** What an endpoint needs from an opened device (implemented by VerbsDevice and the fake NIC's device). */
export type { VerbsHca } from './hca.js';
/** The Fabric over RDMA verbs: TCP control plane, one-sided READ/WRITE data plane to the donor's registered slabs. */
export { DEFAULT_QP_SETUP_RETRY, VerbsFabric, type DataPlaneEvent, type VerbsCounters, type VerbsDataPlane, type VerbsFabricOptions } from './verbs-fabric.js';
/** The donor's slab memory in registered chunks, and its first-fit allocator. */
export { DEFAULT_CHUNK_BYTES, RegisteredSlabMemory, type RegisteredSlabMemoryOptions, type SlabMemoryCounters } from './slab-memory.js';
export { FirstFitAllocator } from './slab-allocator.js';
/** The RPC methods a VerbsFabric reserves to set up queue pairs. */
export { VERBS_BIND_METHOD, VERBS_SIDE_CHANNEL_METHOD } from './verbs-rpc.js';
/** The fake NIC (test support: runs the binding and the fabric without hardware). */
export { FakeVerbsNic } from './fake-nic.js';
