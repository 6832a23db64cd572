/**
 * Typed errors of krdma. Every error carries a stable string `code` and a message that says what
 * to do. Libraries never log: callers (apps) log `code` and `message`.
 */
export class KrdmaError extends Error {
  /** Stable machine-readable code, e.g. `invalid-limits`. */
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'KrdmaError';
    this.code = code;
  }
}

/** Codes of {@link ProtocolError}: why a byte stream was refused. */
export type ProtocolErrorCode =
  | 'bad-magic'
  | 'bad-version'
  | 'unknown-type'
  | 'bad-flags'
  | 'frame-too-large'
  | 'bad-length'
  | 'too-many-entries'
  | 'io-too-large'
  | 'name-too-long'
  | 'bad-utf8'
  | 'field-range'
  | 'decoder-failed'
  | 'receive-budget'
  | 'unexpected-message'
  | 'unexpected-reply'
  | 'not-authenticated';

/**
 * A violation of the wire protocol by the peer (or a corrupt stream). The transport closes the
 * connection on it; the reason is meant for the log line.
 */
export class ProtocolError extends KrdmaError {
  declare readonly code: ProtocolErrorCode;

  constructor(code: ProtocolErrorCode, reason: string) {
    super(code, `protocol error (${code}): ${reason}; the connection is closed, check the peer's version and health`);
    this.name = 'ProtocolError';
  }
}
