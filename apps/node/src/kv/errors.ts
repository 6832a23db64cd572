// Typed errors of the key-value store: a stable code, the HTTP status the server answers with,
// and a message that says what to do.

/** Codes of {@link KvError}. */
export type KvErrorCode =
  | 'invalid-key'
  | 'value-too-large'
  | 'index-full'
  | 'heap-full'
  | 'region-too-small'
  | 'invalid-option'
  | 'closed';

const STATUS: Readonly<Record<KvErrorCode, number>> = {
  'invalid-key': 400,
  'value-too-large': 413,
  'index-full': 507,
  'heap-full': 507,
  'region-too-small': 500,
  'invalid-option': 400,
  closed: 503,
};

/** A failure of the key-value store; nothing was changed by the operation that threw it. */
export class KvError extends Error {
  /** The HTTP status the kv server answers this error with. */
  readonly status: number;

  constructor(readonly code: KvErrorCode, message: string) {
    super(message);
    this.name = 'KvError';
    this.status = STATUS[code];
  }
}
