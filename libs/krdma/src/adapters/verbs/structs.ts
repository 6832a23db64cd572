// koffi declarations of the verbs structs (rdma-core 44, x86-64). The slow path (setup:
// query_port, create_qp, modify_qp, reg_mr results) marshals through these; the hot path never
// does: it writes work requests into preallocated native memory at the offsets of LAYOUT_TABLE.
// koffi type names are process-global and survive module re-evaluation (test isolation), so every
// named type is looked up before it is declared.
import koffi, { type TypeObject } from 'koffi';

function named(name: string, declare: () => TypeObject): TypeObject {
  try {
    return koffi.type(name);
  } catch {
    return declare();
  }
}

const u8 = 'uint8_t';
const u16 = 'uint16_t';
const u32 = 'uint32_t';
const u64 = 'uint64_t';
const ptr = 'void *';
const int = 'int';

const CONTEXT_OPS_FIELDS = [
  '_compat_query_device', '_compat_query_port', '_compat_alloc_pd', '_compat_dealloc_pd', '_compat_reg_mr',
  '_compat_rereg_mr', '_compat_dereg_mr', 'alloc_mw', 'bind_mw', 'dealloc_mw', '_compat_create_cq', 'poll_cq',
  'req_notify_cq', '_compat_cq_event', '_compat_resize_cq', '_compat_destroy_cq', '_compat_create_srq',
  '_compat_modify_srq', '_compat_query_srq', '_compat_destroy_srq', 'post_srq_recv', '_compat_create_qp',
  '_compat_query_qp', '_compat_modify_qp', '_compat_destroy_qp', 'post_send', 'post_recv', '_compat_create_ah',
  '_compat_destroy_ah', '_compat_attach_mcast', '_compat_detach_mcast', '_compat_async_event',
] as const;

function declareAll() {
  const gid = named('ibv_gid', () =>
    koffi.union('ibv_gid', { raw: koffi.array(u8, 16), global: koffi.struct({ subnet_prefix: u64, interface_id: u64 }) }),
  );
  const globalRoute = named('ibv_global_route', () =>
    koffi.struct('ibv_global_route', { dgid: gid, flow_label: u32, sgid_index: u8, hop_limit: u8, traffic_class: u8 }),
  );
  const ahAttr = named('ibv_ah_attr', () =>
    koffi.struct('ibv_ah_attr', { grh: globalRoute, dlid: u16, sl: u8, src_path_bits: u8, static_rate: u8, is_global: u8, port_num: u8 }),
  );
  const qpCap = named('ibv_qp_cap', () =>
    koffi.struct('ibv_qp_cap', { max_send_wr: u32, max_recv_wr: u32, max_send_sge: u32, max_recv_sge: u32, max_inline_data: u32 }),
  );
  const qpAttr = named('ibv_qp_attr', () =>
    koffi.struct('ibv_qp_attr', {
      qp_state: int, cur_qp_state: int, path_mtu: int, path_mig_state: int, qkey: u32, rq_psn: u32, sq_psn: u32,
      dest_qp_num: u32, qp_access_flags: int, cap: qpCap, ah_attr: ahAttr, alt_ah_attr: ahAttr, pkey_index: u16,
      alt_pkey_index: u16, en_sqd_async_notify: u8, sq_draining: u8, max_rd_atomic: u8, max_dest_rd_atomic: u8,
      min_rnr_timer: u8, port_num: u8, timeout: u8, retry_cnt: u8, rnr_retry: u8, alt_port_num: u8, alt_timeout: u8,
      rate_limit: u32,
    }),
  );
  const qpInitAttr = named('ibv_qp_init_attr', () =>
    koffi.struct('ibv_qp_init_attr', { qp_context: ptr, send_cq: ptr, recv_cq: ptr, srq: ptr, cap: qpCap, qp_type: int, sq_sig_all: int }),
  );
  const portAttr = named('ibv_port_attr', () =>
    koffi.struct('ibv_port_attr', {
      state: int, max_mtu: int, active_mtu: int, gid_tbl_len: int, port_cap_flags: u32, max_msg_sz: u32,
      bad_pkey_cntr: u32, qkey_viol_cntr: u32, pkey_tbl_len: u16, lid: u16, sm_lid: u16, lmc: u8, max_vl_num: u8,
      sm_sl: u8, subnet_timeout: u8, init_type_reply: u8, active_width: u8, active_speed: u8, phys_state: u8,
      link_layer: u8, flags: u8, port_cap_flags2: u16,
    }),
  );
  const sge = named('ibv_sge', () => koffi.struct('ibv_sge', { addr: u64, length: u32, lkey: u32 }));
  const sendWr = named('ibv_send_wr', () =>
    koffi.struct('ibv_send_wr', {
      wr_id: u64, next: ptr, sg_list: ptr, num_sge: int, opcode: int, send_flags: 'unsigned int', imm_data: u32,
      wr: koffi.union({
        rdma: koffi.struct({ remote_addr: u64, rkey: u32 }),
        atomic: koffi.struct({ remote_addr: u64, compare_add: u64, swap: u64, rkey: u32 }),
        ud: koffi.struct({ ah: ptr, remote_qpn: u32, remote_qkey: u32 }),
      }),
      qp_type: koffi.union({ xrc: koffi.struct({ remote_srqn: u32 }) }),
      tail: koffi.union({
        bind_mw: koffi.struct({ mw: ptr, rkey: u32, bind_info: koffi.struct({ mr: ptr, addr: u64, length: u64, mw_access_flags: 'unsigned int' }) }),
        tso: koffi.struct({ hdr: ptr, hdr_sz: u16, mss: u16 }),
      }),
    }),
  );
  const recvWr = named('ibv_recv_wr', () => koffi.struct('ibv_recv_wr', { wr_id: u64, next: ptr, sg_list: ptr, num_sge: int }));
  const wc = named('ibv_wc', () =>
    koffi.struct('ibv_wc', {
      wr_id: u64, status: int, opcode: int, vendor_err: u32, byte_len: u32, imm_data: u32, qp_num: u32, src_qp: u32,
      wc_flags: 'unsigned int', pkey_index: u16, slid: u16, sl: u8, dlid_path_bits: u8,
    }),
  );
  const mr = named('ibv_mr', () =>
    koffi.struct('ibv_mr', { context: ptr, pd: ptr, addr: ptr, length: 'size_t', handle: u32, lkey: u32, rkey: u32 }),
  );
  const mutex = [8, koffi.array(u8, 40)] as [number, TypeObject];
  const cond = [8, koffi.array(u8, 48)] as [number, TypeObject];
  const qp = named('ibv_qp', () =>
    koffi.struct('ibv_qp', {
      context: ptr, qp_context: ptr, pd: ptr, send_cq: ptr, recv_cq: ptr, srq: ptr, handle: u32, qp_num: u32,
      state: int, qp_type: int, mutex, cond, events_completed: u32,
    }),
  );
  const cq = named('ibv_cq', () =>
    koffi.struct('ibv_cq', {
      context: ptr, channel: ptr, cq_context: ptr, handle: u32, cqe: int, mutex, cond, comp_events_completed: u32,
      async_events_completed: u32,
    }),
  );
  const contextOps = named('ibv_context_ops', () =>
    koffi.struct('ibv_context_ops', Object.fromEntries(CONTEXT_OPS_FIELDS.map((field) => [field, ptr]))),
  );
  const context = named('ibv_context', () =>
    koffi.struct('ibv_context', { device: ptr, ops: contextOps, cmd_fd: int, async_fd: int, num_comp_vectors: int, mutex, abi_compat: ptr }),
  );
  const postSendFn = named('ibv_post_send_fn', () => koffi.proto('int ibv_post_send_fn(void *qp, void *wr, void *bad_wr)'));
  const postRecvFn = named('ibv_post_recv_fn', () => koffi.proto('int ibv_post_recv_fn(void *qp, void *wr, void *bad_wr)'));
  const pollCqFn = named('ibv_poll_cq_fn', () => koffi.proto('int ibv_poll_cq_fn(void *cq, int num_entries, void *wc)'));
  const reqNotifyCqFn = named('ibv_req_notify_cq_fn', () => koffi.proto('int ibv_req_notify_cq_fn(void *cq, int solicited_only)'));
  return {
    structs: {
      ibv_sge: sge, ibv_send_wr: sendWr, ibv_recv_wr: recvWr, ibv_wc: wc, ibv_mr: mr, ibv_qp: qp, ibv_cq: cq,
      ibv_qp_cap: qpCap, ibv_qp_init_attr: qpInitAttr, ibv_qp_attr: qpAttr, ibv_global_route: globalRoute,
      ibv_ah_attr: ahAttr, ibv_port_attr: portAttr, ibv_gid: gid, ibv_context: context,
    } as Readonly<Record<string, TypeObject>>,
    protos: { postSend: postSendFn, postRecv: postRecvFn, pollCq: pollCqFn, reqNotifyCq: reqNotifyCqFn },
  };
}

/** The declared verbs types: structs by C name, and the prototypes of the inline verbs. */
export type VerbsTypes = ReturnType<typeof declareAll>;

let declared: VerbsTypes | null = null;

/** The koffi declarations (declared once per process). */
export function verbsTypes(): VerbsTypes {
  declared ??= declareAll();
  return declared;
}

/** koffi's offset of a member path (`wr.rdma.remote_addr`) inside a struct or union type. */
export function koffiOffsetOf(type: TypeObject, path: string): number {
  let offset = 0;
  let current = type;
  for (const part of path.split('.')) {
    const member = current.members?.[part];
    if (member === undefined) throw new Error(`no member '${part}' in ${current.name} (path ${path})`);
    offset += member.offset;
    current = member.type;
  }
  return offset;
}
