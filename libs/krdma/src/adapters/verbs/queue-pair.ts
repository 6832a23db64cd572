// RC queue pair setup: create the CQ and QP, and the RESET → INIT → RTR → RTS transitions with the
// attribute values and mask bits of native.md §4.1, for InfiniBand (LID) and RoCE (GID) addressing.
// The attribute builders are pure so the masks are tested without a device.
import koffi from 'koffi';
import { IbvMtu, IbvQpAttrMask as M, IbvQpState, IbvQpType, LAYOUT_TABLE } from './abi.js';
import { callError } from './errors.js';
import type { NativePointer, VerbsLibrary } from './library.js';

/** What a peer needs to reach a queue pair and its exposed memory (exchanged over the side channel). */
export interface ConnectionInfo {
  /** Port LID (InfiniBand; 0 on RoCE). */
  readonly lid: number;
  /** Queue pair number. */
  readonly qpn: number;
  /** Initial packet sequence number (24 bits). */
  readonly psn: number;
  /** Port GID, 16 bytes (RoCE addressing). */
  readonly gid: Uint8Array;
  /** IbvMtu code of the port's active MTU. */
  readonly activeMtu: number;
  /** Whether the port is Ethernet (RoCE). */
  readonly roce: boolean;
  /** rkey of the exposed memory region (0 when none). */
  readonly rkey: number;
  /** Base address of the exposed memory region (0 when none). */
  readonly address: number;
  /** Length of the exposed memory region in bytes (0 when none). */
  readonly lengthBytes: number;
  /** Receive buffers posted for messages (RPC), and the size of each. */
  readonly recvSlots: number;
  readonly messageBytes: number;
}

/** An attribute set for ibv_modify_qp: values (an ibv_qp_attr object for koffi) and the mask. */
export interface QpTransition {
  readonly state: 'INIT' | 'RTR' | 'RTS' | 'ERR';
  readonly attr: Record<string, unknown>;
  readonly mask: number;
}

/** Tunables of the transitions (defaults from native.md §4.1). */
export interface QpTuning {
  readonly portNum: number;
  /** GID index of the local port (RoCE). */
  readonly gidIndex: number;
  /** Access flags granted to the peer on this QP. */
  readonly accessFlags: number;
  /** Highest path MTU to use (IbvMtu code); the path MTU is the minimum of this and both ports' active MTUs. */
  readonly maxPathMtu: number;
  /** RDMA READs the peer may have outstanding against us, and we against it. */
  readonly maxRdAtomic: number;
  /** Hop limit of the GRH (RoCE). */
  readonly hopLimit: number;
  /** Local ACK timeout exponent (4.096 µs × 2^timeout) and retry counts. */
  readonly timeout: number;
  readonly retryCount: number;
  readonly rnrRetry: number;
  readonly minRnrTimer: number;
}

/** Default tuning: port 1, GID 0, MTU ≤ 1024, 16 outstanding READs, timeout 14, retry 7, rnr retry 7. */
export const DEFAULT_QP_TUNING: QpTuning = {
  portNum: 1, gidIndex: 0, accessFlags: 1 | 2 | 4, maxPathMtu: IbvMtu.MTU_1024, maxRdAtomic: 16, hopLimit: 1,
  timeout: 14, retryCount: 7, rnrRetry: 7, minRnrTimer: 12,
};

const ZERO_GID = { raw: new Array<number>(16).fill(0) };

function baseAttr(): Record<string, unknown> {
  const ah = { grh: { dgid: ZERO_GID, flow_label: 0, sgid_index: 0, hop_limit: 0, traffic_class: 0 }, dlid: 0, sl: 0, src_path_bits: 0, static_rate: 0, is_global: 0, port_num: 0 };
  return {
    qp_state: 0, cur_qp_state: 0, path_mtu: 0, path_mig_state: 0, qkey: 0, rq_psn: 0, sq_psn: 0, dest_qp_num: 0,
    qp_access_flags: 0, cap: { max_send_wr: 0, max_recv_wr: 0, max_send_sge: 0, max_recv_sge: 0, max_inline_data: 0 },
    ah_attr: ah, alt_ah_attr: ah, pkey_index: 0, alt_pkey_index: 0, en_sqd_async_notify: 0, sq_draining: 0,
    max_rd_atomic: 0, max_dest_rd_atomic: 0, min_rnr_timer: 0, port_num: 0, timeout: 0, retry_cnt: 0, rnr_retry: 0,
    alt_port_num: 0, alt_timeout: 0, rate_limit: 0,
  };
}

/** RESET → INIT: state, pkey index 0, port, access flags. */
export function initTransition(tuning: QpTuning = DEFAULT_QP_TUNING): QpTransition {
  const attr = { ...baseAttr(), qp_state: IbvQpState.INIT, pkey_index: 0, port_num: tuning.portNum, qp_access_flags: tuning.accessFlags };
  return { state: 'INIT', attr, mask: M.STATE | M.PKEY_INDEX | M.PORT | M.ACCESS_FLAGS };
}

/** The path MTU both ends can use. */
export function pathMtu(localActiveMtu: number, remoteActiveMtu: number, maxPathMtu: number): number {
  const known = [localActiveMtu, remoteActiveMtu, maxPathMtu].filter((m) => m >= IbvMtu.MTU_256 && m <= IbvMtu.MTU_4096);
  return known.length === 0 ? IbvMtu.MTU_1024 : Math.min(...known);
}

/**
 * INIT → RTR: path MTU, the remote QPN and PSN, READ depth, RNR timer, and the address vector: the
 * remote LID on InfiniBand; a GRH with the remote GID, our sgid index and the hop limit on RoCE.
 */
export function rtrTransition(local: { activeMtu: number; roce: boolean }, remote: ConnectionInfo, tuning: QpTuning = DEFAULT_QP_TUNING): QpTransition {
  const global = local.roce || remote.roce;
  const ahAttr = {
    grh: {
      dgid: { raw: global ? Array.from(remote.gid) : ZERO_GID.raw },
      flow_label: 0, sgid_index: global ? tuning.gidIndex : 0, hop_limit: global ? tuning.hopLimit : 0, traffic_class: 0,
    },
    dlid: global ? 0 : remote.lid, sl: 0, src_path_bits: 0, static_rate: 0, is_global: global ? 1 : 0, port_num: tuning.portNum,
  };
  const attr = {
    ...baseAttr(), qp_state: IbvQpState.RTR, path_mtu: pathMtu(local.activeMtu, remote.activeMtu, tuning.maxPathMtu),
    dest_qp_num: remote.qpn, rq_psn: remote.psn, max_dest_rd_atomic: tuning.maxRdAtomic, min_rnr_timer: tuning.minRnrTimer,
    ah_attr: ahAttr,
  };
  return {
    state: 'RTR', attr,
    mask: M.STATE | M.AV | M.PATH_MTU | M.DEST_QPN | M.RQ_PSN | M.MAX_DEST_RD_ATOMIC | M.MIN_RNR_TIMER,
  };
}

/** RTR → RTS: ACK timeout, retry counts, our send PSN, READ depth. */
export function rtsTransition(localPsn: number, tuning: QpTuning = DEFAULT_QP_TUNING): QpTransition {
  const attr = {
    ...baseAttr(), qp_state: IbvQpState.RTS, timeout: tuning.timeout, retry_cnt: tuning.retryCount, rnr_retry: tuning.rnrRetry,
    sq_psn: localPsn, max_rd_atomic: tuning.maxRdAtomic,
  };
  return { state: 'RTS', attr, mask: M.STATE | M.TIMEOUT | M.RETRY_CNT | M.RNR_RETRY | M.SQ_PSN | M.MAX_QP_RD_ATOMIC };
}

/** → ERR: flushes every outstanding work request (they complete WR_FLUSH_ERR). */
export function errorTransition(): QpTransition {
  return { state: 'ERR', attr: { ...baseAttr(), qp_state: IbvQpState.ERR }, mask: M.STATE };
}

/** Applies a transition with ibv_modify_qp; throws `verbs-call-failed` with the state in the message. */
export function modifyQp(lib: VerbsLibrary, qp: NativePointer, transition: QpTransition): void {
  const rc = lib.ibv_modify_qp(qp, transition.attr, transition.mask);
  if (rc !== 0) {
    throw callError(`ibv_modify_qp(→${transition.state}, mask 0x${transition.mask.toString(16)})`, rc > 0 ? rc : koffi.errno(), 'check the peer connection info (LID/GID, QPN) and the port');
  }
}

/** Sizes of a new queue pair. */
export interface QpCapacity {
  readonly maxSendWr: number;
  readonly maxRecvWr: number;
}

/** Creates a completion queue of `cqe` entries. */
export function createCq(lib: VerbsLibrary, context: NativePointer, cqe: number): NativePointer {
  koffi.errno(0);
  const cq = lib.ibv_create_cq(context, cqe, null, null, 0);
  if (cq === null) throw callError(`ibv_create_cq(${cqe} entries)`, koffi.errno());
  return cq;
}

/** Creates an RC queue pair on `pd` whose send and receive completions go to `cq`; returns it and its QPN. */
export function createRcQp(lib: VerbsLibrary, pd: NativePointer, cq: NativePointer, capacity: QpCapacity): { qp: NativePointer; qpn: number } {
  const initAttr = {
    qp_context: null, send_cq: cq, recv_cq: cq, srq: null,
    cap: { max_send_wr: capacity.maxSendWr, max_recv_wr: capacity.maxRecvWr, max_send_sge: 1, max_recv_sge: 1, max_inline_data: 0 },
    qp_type: IbvQpType.RC, sq_sig_all: 0,
  };
  koffi.errno(0);
  const qp = lib.ibv_create_qp(pd, initAttr);
  if (qp === null) throw callError(`ibv_create_qp(RC, ${capacity.maxSendWr} send / ${capacity.maxRecvWr} recv WRs)`, koffi.errno(), 'lower the queue depths');
  const qpn = koffi.decode(qp, LAYOUT_TABLE.ibv_qp.offsets.qp_num, 'uint32_t') as number;
  return { qp, qpn };
}
