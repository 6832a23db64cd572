// The two RPC methods a VerbsFabric serves over its authenticated TCP session to set up the RC
// queue pair of a peer: "where is your side channel" and "bind this queue pair to me". Payloads
// are small, little-endian and versioned.
import { VerbsError } from './errors.js';

/** RPC method: the side-channel port (request: empty; reply: version u8, reserved u8, port u16). */
export const VERBS_SIDE_CHANNEL_METHOD = 0x5652_0001;
/**
 * RPC method: bind the queue pair just set up over the side channel to the calling peer
 * (request: version u8, reserved 3 bytes, the caller's QPN u32, the callee's QPN u32; reply: empty).
 */
export const VERBS_BIND_METHOD = 0x5652_0002;
/** Version of both payloads. */
export const VERBS_RPC_VERSION = 1;

/** Encodes the side-channel reply. */
export function encodeSideChannelReply(port: number): Uint8Array {
  const out = new Uint8Array(4);
  const view = new DataView(out.buffer);
  view.setUint8(0, VERBS_RPC_VERSION);
  view.setUint16(2, port, true);
  return out;
}

/** Decodes the side-channel reply; throws `bad-connection-info`. */
export function decodeSideChannelReply(reply: Uint8Array): number {
  if (reply.length !== 4 || reply[0] !== VERBS_RPC_VERSION) {
    throw new VerbsError('bad-connection-info', `the peer's side-channel reply is not version ${VERBS_RPC_VERSION} (${reply.length} bytes); run the same rackmem version on both nodes`);
  }
  const port = new DataView(reply.buffer, reply.byteOffset, 4).getUint16(2, true);
  if (port === 0) throw new VerbsError('bad-connection-info', 'the peer reported side-channel port 0');
  return port;
}

/** The queue-pair numbers of a bind request. */
export interface BindRequest {
  /** QPN of the caller's (dialler's) queue pair. */
  readonly callerQpn: number;
  /** QPN of the callee's (acceptor's) queue pair. */
  readonly calleeQpn: number;
}

/** Encodes a bind request. */
export function encodeBindRequest(request: BindRequest): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  view.setUint8(0, VERBS_RPC_VERSION);
  view.setUint32(4, request.callerQpn, true);
  view.setUint32(8, request.calleeQpn, true);
  return out;
}

/** Decodes a bind request, or null when it is malformed. */
export function decodeBindRequest(payload: Uint8Array): BindRequest | null {
  if (payload.length !== 12 || payload[0] !== VERBS_RPC_VERSION) return null;
  const view = new DataView(payload.buffer, payload.byteOffset, 12);
  return { callerQpn: view.getUint32(4, true), calleeQpn: view.getUint32(8, true) };
}
