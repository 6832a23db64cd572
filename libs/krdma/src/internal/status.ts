import type { FabricStatus } from './fabric.js';
import { WireErrorCode, wireErrorName, type WireErrorName } from './wire/messages.js';

/** The completion status a wire error code maps to. */
export function statusOfWireError(code: number): FabricStatus {
  switch (wireErrorName(code)) {
    case 'no-space':
      return 'no-space';
    case 'busy':
      return 'busy';
    case 'bad-request':
    case 'not-owner':
    case 'unknown-slab':
    case 'unknown-method':
    case 'auth-failed':
    case 'not-authenticated':
      return 'rejected';
    default:
      return 'error';
  }
}

/** The wire error code an RPC handler's failure status is sent as. */
export function wireErrorOfStatus(status: FabricStatus): number {
  const byStatus: Partial<Record<FabricStatus, WireErrorName>> = { rejected: 'bad-request', 'no-space': 'no-space', busy: 'busy' };
  return WireErrorCode[byStatus[status] ?? 'handler-failed'];
}
