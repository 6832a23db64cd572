// The daemon's logger: pino JSON lines (one object per line, `msg` reads like the original's
// kernel log), or human-readable lines through pino-pretty. Writes are synchronous so nothing is
// lost when the process exits and no worker thread is left running.
import { writeSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import type { LogFormat, LogLevel } from '../config/types.js';

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  readonly format?: LogFormat;
  readonly level?: LogLevel;
  /** Where lines go: a file descriptor (default 1, stdout) or a stream (tests). */
  readonly destination?: number | NodeJS.WritableStream;
  /** Fields on every line (for example `{ node: 'mem-1' }`). */
  readonly base?: Record<string, unknown>;
  /** Colours in pretty mode (default: when the destination is a terminal). */
  readonly colorize?: boolean;
}

/** Creates a pino logger writing JSON lines or pretty lines. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? 1;
  const base = { pid: process.pid, ...options.base };
  const level = options.level ?? 'info';
  if (options.format === 'pretty') {
    const colorize = options.colorize ?? (destination === 1 && process.stdout.isTTY === true);
    // prettyFactory rather than the pino-pretty stream: the stream drops the line end when
    // hideObject is on (pino-pretty 13.2). Writes stay synchronous.
    const format = pinoPretty.prettyFactory({ colorize, translateTime: 'SYS:standard', ignore: 'pid,hostname,node,event', hideObject: true, singleLine: true });
    const write = typeof destination === 'number' ? (text: string) => void writeSync(destination, text) : (text: string) => void destination.write(text);
    const stream = {
      write(line: string): void {
        const text = format(line);
        write(text.endsWith('\n') ? text : `${text}\n`);
      },
    };
    return pino({ level, base }, stream);
  }
  const stream = typeof destination === 'number' ? pino.destination({ dest: destination, sync: true }) : destination;
  return pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}

export type { Logger };
