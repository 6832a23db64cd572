// The TCP side channel that sets up a verbs connection: each side sends its ConnectionInfo as one
// JSON line, both bring their QP to RTS, and the dialler confirms with a `ready` line. Every wait
// has a timeout and every line a size bound. The socket stays open afterwards: its close tells the
// endpoint that the peer is gone.
import { connect as netConnect, type Socket } from 'node:net';
import { VerbsError } from './errors.js';
import type { ConnectionInfo } from './queue-pair.js';

/** Longest line accepted on the side channel. */
export const SIDE_CHANNEL_MAX_LINE_BYTES = 2048;
/** Version of the side-channel exchange. */
export const SIDE_CHANNEL_VERSION = 1;

/** The JSON line of a ConnectionInfo. */
export function encodeConnectionInfo(info: ConnectionInfo): string {
  return JSON.stringify({
    v: SIDE_CHANNEL_VERSION, lid: info.lid, qpn: info.qpn, psn: info.psn, gid: Buffer.from(info.gid).toString('hex'),
    activeMtu: info.activeMtu, roce: info.roce, rkey: info.rkey, address: info.address, lengthBytes: info.lengthBytes,
    recvSlots: info.recvSlots, messageBytes: info.messageBytes,
  });
}

function field(obj: Record<string, unknown>, name: string, max: number): number {
  const value = obj[name];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new VerbsError('bad-connection-info', `the peer's connection info has a bad '${name}' (${String(value)}); check that both ends run the same rackmem version`);
  }
  return value;
}

/** Parses and checks a peer's ConnectionInfo line; throws `bad-connection-info`. */
export function parseConnectionInfo(line: string): ConnectionInfo {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch {
    throw new VerbsError('bad-connection-info', 'the peer sent connection info that is not JSON; is the port a rackmem verbs side channel?');
  }
  if (typeof obj !== 'object' || obj === null) throw new VerbsError('bad-connection-info', 'the peer sent connection info that is not an object');
  const o = obj as Record<string, unknown>;
  if (o.v !== SIDE_CHANNEL_VERSION) throw new VerbsError('bad-connection-info', `the peer speaks side-channel version ${String(o.v)}, this node ${SIDE_CHANNEL_VERSION}; upgrade one of them`);
  if (typeof o.gid !== 'string' || !/^[0-9a-f]{32}$/.test(o.gid)) throw new VerbsError('bad-connection-info', "the peer's GID is not 16 bytes of hex");
  if (typeof o.roce !== 'boolean') throw new VerbsError('bad-connection-info', "the peer's 'roce' flag is missing");
  return {
    lid: field(o, 'lid', 0xffff), qpn: field(o, 'qpn', 0xff_ffff), psn: field(o, 'psn', 0xff_ffff), gid: Uint8Array.from(Buffer.from(o.gid, 'hex')),
    activeMtu: field(o, 'activeMtu', 5), roce: o.roce, rkey: field(o, 'rkey', 0xffff_ffff), address: field(o, 'address', Number.MAX_SAFE_INTEGER),
    lengthBytes: field(o, 'lengthBytes', Number.MAX_SAFE_INTEGER), recvSlots: field(o, 'recvSlots', 65536), messageBytes: field(o, 'messageBytes', 1 << 24),
  };
}

/** Newline-delimited lines over a socket, with a timeout on every read. */
export class LineChannel {
  private buffered = '';
  private readonly lines: string[] = [];
  private waiter: { resolve: (line: string) => void; reject: (err: Error) => void; timer: ReturnType<typeof setTimeout> } | null = null;
  private failure: VerbsError | null = null;
  private closeListener: ((reason: string) => void) | null = null;

  constructor(
    readonly socket: Socket,
    private readonly timeoutMs: number,
  ) {
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.onEnd(`side channel error: ${err.message}`));
    socket.on('close', () => this.onEnd('the side channel closed'));
  }

  /** Sets the one listener called when the socket closes or fails (after setup: the peer is gone). */
  onClose(listener: ((reason: string) => void) | null): void {
    this.closeListener = listener;
  }

  /** Writes one line. */
  writeLine(line: string): void {
    this.socket.write(`${line}\n`);
  }

  /** The next line, or `side-channel-timeout` / `side-channel-failed`. */
  readLine(what: string): Promise<string> {
    const next = this.lines.shift();
    if (next !== undefined) return Promise.resolve(next);
    if (this.failure !== null) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new VerbsError('side-channel-timeout', `no ${what} from the peer within ${this.timeoutMs} ms on the verbs side channel; check the peer is up and reachable`));
      }, this.timeoutMs);
      this.waiter = { resolve, reject, timer };
    });
  }

  /** Closes the socket. */
  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    let newline = this.buffered.indexOf('\n');
    while (newline >= 0) {
      this.deliver(this.buffered.slice(0, newline));
      this.buffered = this.buffered.slice(newline + 1);
      newline = this.buffered.indexOf('\n');
    }
    if (this.buffered.length > SIDE_CHANNEL_MAX_LINE_BYTES) {
      this.onEnd(`a side-channel line exceeds ${SIDE_CHANNEL_MAX_LINE_BYTES} bytes`);
      this.socket.destroy();
    }
  }

  private deliver(line: string): void {
    if (this.waiter !== null) {
      const { resolve, timer } = this.waiter;
      clearTimeout(timer);
      this.waiter = null;
      resolve(line);
    } else {
      this.lines.push(line);
      if (this.lines.length > 16) {
        this.onEnd('the peer sent too many side-channel lines');
        this.socket.destroy();
      }
    }
  }

  private onEnd(reason: string): void {
    if (this.failure !== null) return;
    this.failure = new VerbsError('side-channel-failed', `${reason}; the verbs connection cannot be set up or is gone`);
    if (this.waiter !== null) {
      const { reject, timer } = this.waiter;
      clearTimeout(timer);
      this.waiter = null;
      reject(this.failure);
    }
    this.closeListener?.(reason);
  }
}

/** Dials a side channel with a connect timeout. */
export function dialSideChannel(host: string, port: number, timeoutMs: number): Promise<LineChannel> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new VerbsError('side-channel-timeout', `connecting to the verbs side channel ${host}:${port} took over ${timeoutMs} ms`));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(new LineChannel(socket, timeoutMs));
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      reject(new VerbsError('side-channel-failed', `cannot connect to the verbs side channel ${host}:${port}: ${err.message}`));
    });
  });
}
