/**
 * @packageDocumentation
 * `@rackmem/krdma`: node-to-node RPC and one-sided access to remote memory slabs behind the
 * {@link Fabric} port, a versioned binary wire protocol with a hardened streaming decoder,
 * challenge/response authentication, the donor service, the TCP transport and an in-process
 * loopback transport.
 */

/** Typed errors: {@link KrdmaError} (code + message) and {@link ProtocolError}. */
export { KrdmaError, ProtocolError, type ProtocolErrorCode } from './internal/errors.js';
/** Node identity: name, FNV-1a 32-bit hash, default port. */
export { DEFAULT_PORT, nodeHash, nodeIdentity, type NodeIdentity } from './internal/identity.js';
/** The Fabric port and its types. */
export type {
  AllocDone,
  ConnectDone,
  Fabric,
  FabricStatus,
  PeerAddress,
  PeerEvent,
  PeerId,
  PeerInfo,
  PeerState,
  PingDone,
  ReadOp,
  RemoteSlab,
  RemoteStats,
  RpcDone,
  RpcHandler,
  RpcRespond,
  StatsDone,
  StatusDone,
  WriteOp,
} from './internal/fabric.js';
/** Wire limits checked by the decoder. */
export { DEFAULT_WIRE_LIMITS, resolveWireLimits, type WireLimits } from './internal/wire/limits.js';
/** Wire format: constants, message types, error codes. */
export {
  HEADER_BYTES,
  MessageType,
  NONCE_BYTES,
  PING_TOKEN_BYTES,
  PROOF_BYTES,
  PROTOCOL_VERSION,
  WireErrorCode,
  messageTypeName,
  wireErrorName,
  type MessageOf,
  type MessageTypeName,
  type ReadVectorEntry,
  type WireErrorName,
  type WireMessage,
  type WriteVectorEntry,
} from './internal/wire/messages.js';
/** Frame encoder (into caller-provided buffers). */
export { encodeFrame, encodeFrameBytes, frameByteLength, payloadByteLength } from './internal/wire/encode.js';
/** Streaming frame decoder. */
export { FrameDecoder, type FrameDecoderOptions, type FrameSink } from './internal/wire/decode.js';
/** Completion status mapping of wire error codes. */
export { statusOfWireError } from './internal/status.js';
/** Authentication state machines (I/O-free). */
export {
  ClientHandshake,
  MIN_SECRET_BYTES,
  ServerHandshake,
  authProof,
  type AuthStep,
  type HandshakeConfig,
  type ServerHandshakeOptions,
} from './internal/auth/handshake.js';
/** The donor service (I/O-free). */
export { DonorError, DonorService, type DonorErrorCode, type DonorOptions, type DonorSlab, type DonorSlabBlock, type DonorSlabMemory, type DonorStats } from './internal/donor/donor.js';
/** Runtime ports a transport is given. */
export {
  DEFAULT_SESSION_TIMEOUTS,
  type Clock,
  type NonceSource,
  type Scheduler,
  type SessionTimeouts,
} from './internal/session/ports.js';
/** The per-connection protocol engine and the Fabric base that transports build on. */
export { Session, type SessionConfig, type SessionCounters, type SessionEnd, type SessionHooks } from './internal/session/session.js';
export { SessionFabric, type SessionFabricOptions } from './internal/session/session-fabric.js';
/** The in-process loopback transport. */
export {
  LoopbackFabric,
  LoopbackNetwork,
  type LoopbackNetworkOptions,
  type LoopbackNodeOptions,
} from './internal/loopback/network.js';
/** Shared bound on bytes held by decoders for partial frames. */
export { ReceiveBudget } from './internal/wire/receive-budget.js';
/** Reconnect backoff policy (exponential, bounded, jittered). */
export { backoffDelayNs, DEFAULT_BACKOFF, type BackoffPolicy } from './internal/backoff.js';
/** The TCP transport (node:net) and the process-wide receive budget its connections share by default. */
export { TcpFabric, processReceiveBudget, type TcpCounters, type TcpFabricOptions } from './adapters/tcp/tcp-fabric.js';
/** Reading a TCP fabric's connections from a thread's own poll(2) loop. */
export type { DirectReceiver } from './adapters/tcp/direct-receive.js';
/** Runtime adapters (ambient scheduling, CSPRNG nonces, monotonic clock). */
export { cryptoNonceSource, defaultNodeName, deferMicrotask, immediateScheduler, microtaskScheduler, monotonicClock } from './adapters/runtime.js';
/** Verbs transport through koffi: device, RC endpoints over a TCP side channel, one-sided READ/WRITE, SEND/RECV RPC, typed errors, and the VerbsFabric (TCP control plane, RDMA data plane). */
export * from './adapters/verbs/index.js';
