/** An API failure: the HTTP status, a stable code and a message that says what to do. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The body of every error response. */
export interface ApiErrorBody {
  readonly error: { readonly code: string; readonly message: string };
}
