// The CLI subcommands that call the control API: connect, nodes, stat, limit.
import type { Command } from 'commander';
import { formatHostPort, parseHostPort, type HostPort } from '../config/address.js';
import { DEFAULT_API_PORT, DEFAULT_LISTEN_PORT } from '../config/schema.js';
import { formatBytes, parseSize } from '../config/size.js';
import { ApiClient, ClientError, type ApiAnswer } from './client.js';
import { table } from './format.js';
import { EXIT_FAILURE, EXIT_USAGE, type CliIo } from './io.js';

/** A CLI failure with its exit code. */
export class CliFailure extends Error {
  constructor(readonly exitCode: number, message: string) {
    super(message);
    this.name = 'CliFailure';
  }
}

interface ApiOptions {
  api?: string;
  json?: boolean;
  timeout?: string;
}

const DEFAULT_API = `127.0.0.1:${DEFAULT_API_PORT}`;

function apiAddress(options: ApiOptions, io: CliIo): HostPort {
  const text = options.api ?? io.env.RACKMEM_API ?? DEFAULT_API;
  const parsed = parseHostPort(text, DEFAULT_API_PORT);
  if (typeof parsed === 'string') throw new CliFailure(EXIT_USAGE, `--api: ${parsed}`);
  return parsed;
}

function timeoutOf(options: ApiOptions, fallbackMs: number): number {
  if (options.timeout === undefined) return fallbackMs;
  const ms = Number(options.timeout);
  if (!Number.isSafeInteger(ms) || ms < 100 || ms > 600_000) throw new CliFailure(EXIT_USAGE, `--timeout: expected milliseconds between 100 and 600000, got "${options.timeout}"`);
  return ms;
}

/** Turns an error answer into a CliFailure: 4xx (bad request, unknown region, ...) exit 2, else 1. */
function failureOf(answer: ApiAnswer): CliFailure {
  const error = (answer.body as { error?: { code?: string; message?: string } } | null)?.error;
  const message = error?.message ?? `the API answered HTTP ${answer.status}`;
  const usage = [400, 404, 405, 409, 413, 415].includes(answer.status);
  return new CliFailure(usage ? EXIT_USAGE : EXIT_FAILURE, `${message}${error?.code !== undefined ? ` (${error.code})` : ''}`);
}

async function call(io: CliIo, options: ApiOptions, method: string, path: string, body?: unknown, timeoutMs = 5_000): Promise<unknown> {
  const client = new ApiClient(apiAddress(options, io), timeoutOf(options, timeoutMs));
  let answer: ApiAnswer;
  try {
    answer = await client.call(method, path, body);
  } catch (error) {
    if (error instanceof ClientError) throw new CliFailure(EXIT_FAILURE, error.message);
    throw error;
  }
  if (answer.status < 200 || answer.status >= 300) throw failureOf(answer);
  return answer.body;
}

function printJson(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, null, 2)}\n`);
}

interface PeerView {
  id: number | null;
  nodeName: string | null;
  address: string | null;
  state: string;
  direction: string;
  reason: string | null;
}

interface SelfView {
  nodeName: string;
  listen: string;
  transport: string;
  role: string;
  donor: { capacityBytes: number; usedBytes: number; slabCount: number } | null;
}

interface RegionView {
  name: string;
  sizeBytes: number;
  pageSizeBytes: number;
  localBytes: number;
  policySet: string;
  dirtyTracking?: string;
  stat: Record<string, number>;
}

function withApiOptions(command: Command): Command {
  return command
    .option('--api <addr>', `address of the node's control API (default: $RACKMEM_API or ${DEFAULT_API})`)
    .option('--json', 'print the API answer as JSON')
    .option('--timeout <ms>', 'how long to wait for the answer, in ms');
}

/** Adds connect, nodes, stat and limit to the program; `run` wraps an action and records its exit code. */
export function addApiCommands(program: Command, io: CliIo, run: (action: () => Promise<void>) => Promise<void>): void {
  withApiOptions(program.command('connect').argument('<address>', 'the peer as host:port (port 7472 when omitted)'))
    .description('connect this node to a peer (the original\'s echo "ADDR PORT" > krdma/connect)')
    .addHelpText('after', '\nExamples:\n  $ rackmem connect 10.0.0.18:7472\n  $ rackmem connect mem-2 --api 127.0.0.1:7473\n')
    .action((address: string, options: ApiOptions) =>
      run(async () => {
        const parsed = parseHostPort(address, DEFAULT_LISTEN_PORT);
        if (typeof parsed === 'string') throw new CliFailure(EXIT_USAGE, `address: ${parsed}`);
        const body = (await call(io, options, 'POST', '/v1/connect', { address: formatHostPort(parsed) }, 20_000)) as { peer: PeerView };
        if (options.json) return printJson(io, body);
        io.stdout(`connection established with ${body.peer.nodeName ?? '?'} (${body.peer.address ?? formatHostPort(parsed)})\n`);
      }),
    );

  withApiOptions(program.command('nodes'))
    .description('list this node and its peers with their connection state (the original\'s node list)')
    .addHelpText('after', '\nExamples:\n  $ rackmem nodes\n  $ rackmem nodes --json\n')
    .action((options: ApiOptions) =>
      run(async () => {
        const body = (await call(io, options, 'GET', '/v1/nodes')) as { self: SelfView; peers: PeerView[] };
        if (options.json) return printJson(io, body);
        const { self } = body;
        const donates = self.donor === null ? 'donates nothing' : `donates ${formatBytes(self.donor.capacityBytes)} (${formatBytes(self.donor.usedBytes)} lent)`;
        const rows: Array<Array<string | number>> = [[self.nodeName, self.listen, '-', 'self', `${self.role}, ${self.transport}, ${donates}`]];
        for (const p of body.peers) rows.push([p.nodeName ?? '?', p.address ?? '-', p.direction, p.state, p.reason ?? '']);
        io.stdout(table(['NODE', 'ADDRESS', 'DIRECTION', 'STATE', 'DETAIL'], rows));
      }),
    );

  withApiOptions(program.command('stat').argument('[region]', 'a region name; all regions when omitted'))
    .description('show region counters and gauges (the original\'s rack_vm/<pid>/stat)')
    .addHelpText('after', '\nExamples:\n  $ rackmem stat\n  $ rackmem stat kv0\n  $ rackmem stat kv0 --json\n')
    .action((region: string | undefined, options: ApiOptions) =>
      run(async () => {
        if (region !== undefined) {
          const body = (await call(io, options, 'GET', `/v1/regions/${encodeURIComponent(region)}/stat`)) as { name: string; stat: Record<string, number> };
          if (options.json) return printJson(io, body);
          io.stdout(table(['COUNTER', 'VALUE'], Object.entries(body.stat)));
          return;
        }
        const body = (await call(io, options, 'GET', '/v1/regions')) as { regions: RegionView[] };
        if (options.json) return printJson(io, body);
        if (body.regions.length === 0) {
          io.stdout('no regions\n');
          return;
        }
        const rows = body.regions.map((r) => [
          r.name,
          formatBytes(r.sizeBytes),
          formatBytes(r.pageSizeBytes),
          formatBytes(r.localBytes),
          r.stat.page_count ?? 0,
          r.stat.pgfault ?? 0,
          r.stat.io_read ?? 0,
          r.stat.io_write ?? 0,
          r.policySet,
          r.dirtyTracking ?? '-',
        ]);
        io.stdout(table(['REGION', 'SIZE', 'PAGE', 'LIMIT', 'PAGES', 'FAULTS', 'READS', 'WRITES', 'POLICY', 'DIRTY'], rows));
      }),
    );

  withApiOptions(program.command('limit').argument('<region>', 'the region name').argument('<bytes>', 'the new local memory budget: bytes or a size like 32MiB'))
    .description('set a region\'s local memory budget (the original\'s memory_limit_bytes)')
    .addHelpText('after', '\nExamples:\n  $ rackmem limit kv0 32MiB\n  $ rackmem limit kv0 1073741824 --json\n')
    .action((region: string, bytesText: string, options: ApiOptions) =>
      run(async () => {
        const bytes = parseSize(bytesText);
        if (bytes === null) throw new CliFailure(EXIT_USAGE, `bytes: expected a size like "32MiB" or a number of bytes, got "${bytesText}"`);
        const body = (await call(io, options, 'PUT', `/v1/regions/${encodeURIComponent(region)}/limit`, { bytes })) as { name: string; bytes: number; previousBytes: number };
        if (options.json) return printJson(io, body);
        io.stdout(`${body.name}: memory_limit_bytes ${body.previousBytes} -> ${body.bytes} (${formatBytes(body.bytes)})\n`);
      }),
    );
}

