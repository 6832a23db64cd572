// The CLI's typed failure: an exit code, a code and a message that says what to do.

import { EXIT_USAGE } from './io.js';

/** A CLI failure with its exit code (2: bad input, 1: a run failed). */
export class CliFailure extends Error {
  constructor(
    readonly exitCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}

/** A usage error (exit 2). */
export function usage(code: string, message: string): CliFailure {
  return new CliFailure(EXIT_USAGE, code, message);
}
