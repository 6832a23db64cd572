// Where the CLI writes and what it may use: the process by default, a capture in tests.

/** Exit codes of rackmem-sim. */
export const EXIT_OK = 0;
/** A checker failure, a replay mismatch or another runtime failure. */
export const EXIT_FAILURE = 1;
/** Bad input: flags, a scenario file, a field path or value; nothing ran. */
export const EXIT_USAGE = 2;

/** The CLI's I/O. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** The stream a progress bar draws on, when it is a terminal (undefined: no progress bar). */
  readonly progressStream?: NodeJS.WriteStream;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The process's I/O (progress bars on stderr when it is a terminal). */
export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    progressStream: process.stderr.isTTY ? process.stderr : undefined,
    cwd: process.cwd(),
    env: process.env,
  };
}
