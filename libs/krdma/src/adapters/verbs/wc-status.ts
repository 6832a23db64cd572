import type { FabricStatus } from '../../internal/fabric.js';
import { IBV_WC_STATUS_NAMES, IbvWcStatus } from './abi.js';

/**
 * The Fabric status of an ibv_wc status:
 * - SUCCESS → `ok`;
 * - RETRY_EXC_ERR, RNR_RETRY_EXC_ERR (the peer stopped answering), WR_FLUSH_ERR (the QP went to
 *   the error state, so the connection is gone), REM_ABORT_ERR, FATAL_ERR → `peer-lost`;
 * - RESP_TIMEOUT_ERR → `timeout`;
 * - REM_ACCESS_ERR, REM_INV_REQ_ERR, REM_INV_RD_REQ_ERR, REM_OP_ERR (the remote refused the
 *   rkey, range or operation) → `rejected`;
 * - anything else (local length, protection, access errors: a bug here) → `error`.
 */
export function statusOfWc(wcStatus: number): FabricStatus {
  switch (wcStatus) {
    case IbvWcStatus.SUCCESS:
      return 'ok';
    case IbvWcStatus.RETRY_EXC_ERR:
    case IbvWcStatus.RNR_RETRY_EXC_ERR:
    case IbvWcStatus.WR_FLUSH_ERR:
    case IbvWcStatus.REM_ABORT_ERR:
    case IbvWcStatus.FATAL_ERR:
      return 'peer-lost';
    case IbvWcStatus.RESP_TIMEOUT_ERR:
      return 'timeout';
    case IbvWcStatus.REM_ACCESS_ERR:
    case IbvWcStatus.REM_INV_REQ_ERR:
    case IbvWcStatus.REM_INV_RD_REQ_ERR:
    case IbvWcStatus.REM_OP_ERR:
      return 'rejected';
    default:
      return 'error';
  }
}

/** `RETRY_EXC_ERR (12)` style text of an ibv_wc status. */
export function wcStatusText(wcStatus: number): string {
  const name = IBV_WC_STATUS_NAMES[wcStatus];
  return `${name ?? 'UNKNOWN'} (${wcStatus})`;
}
