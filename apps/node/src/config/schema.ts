// The fields of the node configuration, validated with zod. The same field schemas check the
// config file and the command-line flags, so both give the same messages.
import { z } from 'zod';
import { parseHostPort, type HostPort } from './address.js';
import { parseSize } from './size.js';

/** Default port of the fabric listener (the original krdma's). */
export const DEFAULT_LISTEN_PORT = 7472;
/** Default port of the control API. */
export const DEFAULT_API_PORT = 7473;
/** Most peers in the configuration. */
export const MAX_PEERS = 256;

const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function hostPort(defaultPort: number | null, allowZeroPort: boolean, example: string) {
  return z.unknown().transform((value, ctx): HostPort => {
    if (typeof value !== 'string') {
      ctx.issues.push({ code: 'custom', message: `expected an address like "${example}"`, input: value });
      return z.NEVER;
    }
    const parsed = parseHostPort(value, defaultPort, allowZeroPort);
    if (typeof parsed === 'string') {
      ctx.issues.push({ code: 'custom', message: parsed, input: value });
      return z.NEVER;
    }
    return parsed;
  });
}

const size = z.unknown().transform((value, ctx): number => {
  const bytes = parseSize(value);
  if (bytes === null) {
    ctx.issues.push({ code: 'custom', message: `expected a size like "16GiB", "512MiB" or a number of bytes, got ${JSON.stringify(value)}`, input: value });
    return z.NEVER;
  }
  return bytes;
});

const positiveMs = z.unknown().transform((value, ctx): number => {
  const n = typeof value === 'string' && /^\d+$/.test(value.trim()) ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 100 || n > 600_000) {
    ctx.issues.push({ code: 'custom', message: `expected milliseconds between 100 and 600000, got ${JSON.stringify(value)}`, input: value });
    return z.NEVER;
  }
  return n;
});

const flag = z.unknown().transform((value, ctx): boolean => {
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  ctx.issues.push({ code: 'custom', message: `expected true or false, got ${JSON.stringify(value)}`, input: value });
  return z.NEVER;
});

/** The schema of each field (all optional; defaults are applied after file and flags merge). */
export const FIELD_SCHEMAS = {
  nodeName: z.string({ error: 'expected a node name like "mem-1"' }).regex(NODE_NAME, {
    error: 'expected 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
  }),
  listen: hostPort(DEFAULT_LISTEN_PORT, true, '0.0.0.0:7472'),
  donateBytes: size,
  peers: z.array(hostPort(DEFAULT_LISTEN_PORT, false, '10.0.0.18:7472'), { error: 'expected a list of addresses like ["10.0.0.18:7472"]' })
    .max(MAX_PEERS, { error: `at most ${MAX_PEERS} peers` }),
  secretFile: z.string({ error: 'expected the path of the cluster secret file' }).min(1, { error: 'expected the path of the cluster secret file' }),
  transport: z.enum(['rdma', 'tcp', 'auto'], { error: 'expected "rdma", "tcp" or "auto"' }),
  api: hostPort(DEFAULT_API_PORT, true, '127.0.0.1:7473'),
  apiAllowRemote: flag,
  logFormat: z.enum(['json', 'pretty'], { error: 'expected "json" or "pretty"' }),
  logLevel: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], { error: 'expected one of trace, debug, info, warn, error, fatal, silent' }),
  role: z.enum(['donor', 'consumer', 'both'], { error: 'expected "donor", "consumer" or "both"' }),
  shutdownTimeoutMs: positiveMs,
} as const;

/** The field names, in documentation order. */
export type ConfigField = keyof typeof FIELD_SCHEMAS;
export const CONFIG_FIELDS = Object.keys(FIELD_SCHEMAS) as ConfigField[];

/** The command-line flag of each field. */
export const FIELD_FLAGS: Readonly<Record<ConfigField, string>> = {
  nodeName: '--name',
  listen: '--listen',
  donateBytes: '--donate',
  peers: '--peer',
  secretFile: '--secret-file',
  transport: '--transport',
  api: '--api',
  apiAllowRemote: '--api-allow-remote',
  logFormat: '--log-format',
  logLevel: '--log-level',
  role: '--role',
  shutdownTimeoutMs: '--shutdown-timeout-ms',
};

/** The parsed value of each field. */
export type ParsedFields = { [K in ConfigField]?: z.output<(typeof FIELD_SCHEMAS)[K]> };

/** The config file schema: a strict mapping of the fields (unknown keys are errors). */
export const FILE_SCHEMA = z.strictObject(FIELD_SCHEMAS).partial();
