// The libibverbs ABI as rackmem uses it: enum values, mask bits, ops-table offsets and the
// checked-in layout table (rdma-core 44, x86-64; see shared/reference/native.md §4.3). Pure data:
// the layout test compares koffi's struct layouts (and, where gcc is present, the C compiler's)
// against LAYOUT_TABLE, so a wrong declaration fails a test instead of corrupting memory.

/** Access flags of ibv_reg_mr / qp_access_flags. */
export const IbvAccess = { LOCAL_WRITE: 1, REMOTE_WRITE: 2, REMOTE_READ: 4 } as const;

/** QP types. */
export const IbvQpType = { RC: 2, UC: 3, UD: 4 } as const;

/** QP states (enum ibv_qp_state). */
export const IbvQpState = { RESET: 0, INIT: 1, RTR: 2, RTS: 3, SQD: 4, SQE: 5, ERR: 6 } as const;

/** Attribute mask bits of ibv_modify_qp (enum ibv_qp_attr_mask). */
export const IbvQpAttrMask = {
  STATE: 1 << 0,
  CUR_STATE: 1 << 1,
  EN_SQD_ASYNC_NOTIFY: 1 << 2,
  ACCESS_FLAGS: 1 << 3,
  PKEY_INDEX: 1 << 4,
  PORT: 1 << 5,
  QKEY: 1 << 6,
  AV: 1 << 7,
  PATH_MTU: 1 << 8,
  TIMEOUT: 1 << 9,
  RETRY_CNT: 1 << 10,
  RNR_RETRY: 1 << 11,
  RQ_PSN: 1 << 12,
  MAX_QP_RD_ATOMIC: 1 << 13,
  ALT_PATH: 1 << 14,
  MIN_RNR_TIMER: 1 << 15,
  SQ_PSN: 1 << 16,
  MAX_DEST_RD_ATOMIC: 1 << 17,
  PATH_MIG_STATE: 1 << 18,
  CAP: 1 << 19,
  DEST_QPN: 1 << 20,
} as const;

/** Work request opcodes (enum ibv_wr_opcode). */
export const IbvWrOpcode = { RDMA_WRITE: 0, RDMA_WRITE_WITH_IMM: 1, SEND: 2, SEND_WITH_IMM: 3, RDMA_READ: 4 } as const;

/** Send flags (enum ibv_send_flags). */
export const IbvSendFlags = { FENCE: 1, SIGNALED: 2, SOLICITED: 4, INLINE: 8 } as const;

/** Work completion opcodes (enum ibv_wc_opcode); receive opcodes have bit 7 set. */
export const IbvWcOpcode = { SEND: 0, RDMA_WRITE: 1, RDMA_READ: 2, COMP_SWAP: 3, FETCH_ADD: 4, BIND_MW: 5, LOCAL_INV: 6, TSO: 7, RECV: 128, RECV_RDMA_WITH_IMM: 129 } as const;

/** Work completion status codes (enum ibv_wc_status), in enum order. */
export const IBV_WC_STATUS_NAMES = [
  'SUCCESS', 'LOC_LEN_ERR', 'LOC_QP_OP_ERR', 'LOC_EEC_OP_ERR', 'LOC_PROT_ERR', 'WR_FLUSH_ERR',
  'MW_BIND_ERR', 'BAD_RESP_ERR', 'LOC_ACCESS_ERR', 'REM_INV_REQ_ERR', 'REM_ACCESS_ERR', 'REM_OP_ERR',
  'RETRY_EXC_ERR', 'RNR_RETRY_EXC_ERR', 'LOC_RDD_VIOL_ERR', 'REM_INV_RD_REQ_ERR', 'REM_ABORT_ERR',
  'INV_EECN_ERR', 'INV_EEC_STATE_ERR', 'FATAL_ERR', 'RESP_TIMEOUT_ERR', 'GENERAL_ERR', 'TM_ERR',
  'TM_RNDV_INCOMPLETE',
] as const;

/** A work completion status name. */
export type IbvWcStatusName = (typeof IBV_WC_STATUS_NAMES)[number];

/** Work completion status codes by name. */
export const IbvWcStatus = Object.fromEntries(IBV_WC_STATUS_NAMES.map((name, code) => [name, code])) as Record<IbvWcStatusName, number>;

/** Path MTU codes (enum ibv_mtu). */
export const IbvMtu = { MTU_256: 1, MTU_512: 2, MTU_1024: 3, MTU_2048: 4, MTU_4096: 5 } as const;

/** Port link layers. */
export const IbvLinkLayer = { UNSPECIFIED: 0, INFINIBAND: 1, ETHERNET: 2 } as const;

/** Port states (enum ibv_port_state). */
export const IbvPortState = { NOP: 0, DOWN: 1, INIT: 2, ARMED: 3, ACTIVE: 4, ACTIVE_DEFER: 5 } as const;

/**
 * Byte offsets, from the start of `struct ibv_context`, of the function pointers of the inline
 * verbs in its ops table (`ctx->ops` is at offset 8). The inline `ibv_post_send` and friends in
 * verbs.h are exactly `qp->context->ops.post_send(qp, wr, bad_wr)`.
 */
export const IBV_CONTEXT_OPS_OFFSETS = { pollCq: 96, reqNotifyCq: 104, postSend: 208, postRecv: 216 } as const;

/** Sizes of the objects a fake context/QP/CQ must have (the handles' first field is the context). */
export const IBV_OBJECT_SIZES = { context: 328, qp: 160, cq: 128 } as const;

/** One struct of the layout table: total size and the offsets of the fields rackmem touches. */
export interface StructLayout {
  readonly sizeBytes: number;
  /** Offsets by C member path (`wr.rdma.remote_addr`), as `offsetof` gives them. */
  readonly offsets: Readonly<Record<string, number>>;
}

/**
 * The checked-in ABI table (native.md §4.3, rdma-core 44, x86-64). The C struct name is
 * `struct <key>`; `ibv_port_attr` is the legacy 52-byte layout filled by the exported
 * `ibv_query_port@@IBVERBS_1.1`.
 */
export const LAYOUT_TABLE: Readonly<Record<string, StructLayout>> = {
  ibv_sge: { sizeBytes: 16, offsets: { addr: 0, length: 8, lkey: 12 } },
  ibv_send_wr: {
    sizeBytes: 128,
    offsets: { wr_id: 0, next: 8, sg_list: 16, num_sge: 24, opcode: 28, send_flags: 32, imm_data: 36, 'wr.rdma.remote_addr': 40, 'wr.rdma.rkey': 48, qp_type: 72 },
  },
  ibv_recv_wr: { sizeBytes: 32, offsets: { wr_id: 0, next: 8, sg_list: 16, num_sge: 24 } },
  ibv_wc: {
    sizeBytes: 48,
    offsets: { wr_id: 0, status: 8, opcode: 12, vendor_err: 16, byte_len: 20, imm_data: 24, qp_num: 28, src_qp: 32, wc_flags: 36, pkey_index: 40, slid: 42, sl: 44, dlid_path_bits: 45 },
  },
  ibv_mr: { sizeBytes: 48, offsets: { context: 0, pd: 8, addr: 16, length: 24, handle: 32, lkey: 36, rkey: 40 } },
  ibv_qp: { sizeBytes: 160, offsets: { context: 0, qp_num: 52, state: 56, qp_type: 60 } },
  ibv_cq: { sizeBytes: 128, offsets: { context: 0 } },
  ibv_qp_cap: { sizeBytes: 20, offsets: { max_send_wr: 0, max_recv_wr: 4, max_send_sge: 8, max_recv_sge: 12, max_inline_data: 16 } },
  ibv_qp_init_attr: { sizeBytes: 64, offsets: { qp_context: 0, send_cq: 8, recv_cq: 16, srq: 24, cap: 32, qp_type: 52, sq_sig_all: 56 } },
  ibv_qp_attr: {
    sizeBytes: 144,
    offsets: {
      qp_state: 0, path_mtu: 8, qkey: 16, rq_psn: 20, sq_psn: 24, dest_qp_num: 28, qp_access_flags: 32, cap: 36, ah_attr: 56,
      pkey_index: 120, max_rd_atomic: 126, max_dest_rd_atomic: 127, min_rnr_timer: 128, port_num: 129, timeout: 130,
      retry_cnt: 131, rnr_retry: 132,
    },
  },
  ibv_global_route: { sizeBytes: 24, offsets: { dgid: 0, flow_label: 16, sgid_index: 20, hop_limit: 21, traffic_class: 22 } },
  ibv_ah_attr: {
    sizeBytes: 32,
    offsets: { grh: 0, 'grh.flow_label': 16, 'grh.sgid_index': 20, 'grh.hop_limit': 21, 'grh.traffic_class': 22, dlid: 24, sl: 26, src_path_bits: 27, static_rate: 28, is_global: 29, port_num: 30 },
  },
  ibv_port_attr: { sizeBytes: 52, offsets: { state: 0, max_mtu: 4, active_mtu: 8, gid_tbl_len: 12, lid: 34, sm_lid: 36, link_layer: 46 } },
  ibv_gid: { sizeBytes: 16, offsets: { raw: 0 } },
  ibv_context: {
    sizeBytes: 328,
    offsets: { device: 0, ops: 8, 'ops.poll_cq': 96, 'ops.req_notify_cq': 104, 'ops.post_send': 208, 'ops.post_recv': 216, cmd_fd: 264, async_fd: 268 },
  },
};
