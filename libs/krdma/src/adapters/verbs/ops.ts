// The inline verbs (ibv_post_send, ibv_post_recv, ibv_poll_cq, ibv_req_notify_cq) are
// `static inline` in verbs.h: each is `obj->context->ops.<verb>(...)`. libibverbs does not export
// them, so, like rust-ibverbs, read the provider's function pointers out of the context's ops
// table and call them directly. The pointers are decoded into callables once per context.
import koffi from 'koffi';
import { IBV_CONTEXT_OPS_OFFSETS } from './abi.js';
import type { NativePointer } from './library.js';
import { verbsTypes } from './structs.js';

/** The provider's inline-verb entry points of one context, as JS callables. */
export interface VerbsOps {
  readonly context: NativePointer;
  /** `int post_send(struct ibv_qp *, struct ibv_send_wr *, struct ibv_send_wr **bad_wr)` */
  readonly postSend: (qp: NativePointer, wr: NativePointer, badWr: NativePointer) => number;
  /** `int post_recv(struct ibv_qp *, struct ibv_recv_wr *, struct ibv_recv_wr **bad_wr)` */
  readonly postRecv: (qp: NativePointer, wr: NativePointer, badWr: NativePointer) => number;
  /** `int poll_cq(struct ibv_cq *, int num_entries, struct ibv_wc *)` */
  readonly pollCq: (cq: NativePointer, numEntries: number, wc: NativePointer) => number;
  /** `int req_notify_cq(struct ibv_cq *, int solicited_only)`; null when the provider has none. */
  readonly reqNotifyCq: ((cq: NativePointer, solicitedOnly: number) => number) | null;
}

const opsByContext = new Map<NativePointer, VerbsOps>();

/** The context a QP or CQ belongs to (`context` is the first field of both). */
export function contextOf(qpOrCq: NativePointer): NativePointer {
  return koffi.decode(qpOrCq, 0, 'void *') as NativePointer;
}

function fnAt(context: NativePointer, offset: number): NativePointer | null {
  return koffi.decode(context, offset, 'void *') as NativePointer | null;
}

/**
 * The ops of a context, decoded on first use and cached. Throws when post_send, post_recv or
 * poll_cq is NULL (not a usable provider context).
 */
export function contextOps(context: NativePointer): VerbsOps {
  const hit = opsByContext.get(context);
  if (hit !== undefined) return hit;
  const { protos } = verbsTypes();
  const postSend = fnAt(context, IBV_CONTEXT_OPS_OFFSETS.postSend);
  const postRecv = fnAt(context, IBV_CONTEXT_OPS_OFFSETS.postRecv);
  const pollCq = fnAt(context, IBV_CONTEXT_OPS_OFFSETS.pollCq);
  const reqNotifyCq = fnAt(context, IBV_CONTEXT_OPS_OFFSETS.reqNotifyCq);
  if (postSend === null || postRecv === null || pollCq === null) {
    throw new Error(`ibv_context at 0x${context.toString(16)} has a NULL post_send, post_recv or poll_cq in its ops table`);
  }
  const ops: VerbsOps = {
    context,
    postSend: koffi.decode(postSend, protos.postSend) as VerbsOps['postSend'],
    postRecv: koffi.decode(postRecv, protos.postRecv) as VerbsOps['postRecv'],
    pollCq: koffi.decode(pollCq, protos.pollCq) as VerbsOps['pollCq'],
    reqNotifyCq: reqNotifyCq === null ? null : (koffi.decode(reqNotifyCq, protos.reqNotifyCq) as NonNullable<VerbsOps['reqNotifyCq']>),
  };
  opsByContext.set(context, ops);
  return ops;
}

/** Drops the cached ops of a context (call when the context is closed: its address may be reused). */
export function forgetContextOps(context: NativePointer): void {
  opsByContext.delete(context);
}
