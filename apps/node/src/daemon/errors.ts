/** Codes of {@link DaemonError}. */
export type DaemonErrorCode = 'transport-unavailable' | 'start-failed' | 'stopped';

/** The daemon could not start (or was used after it stopped); the message says what to do. */
export class DaemonError extends Error {
  constructor(readonly code: DaemonErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DaemonError';
  }
}
