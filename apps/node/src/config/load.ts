// Reads the config file and the flags, validates both with the field schemas, merges them (flags
// win), applies defaults and cross-field rules, and loads the cluster secret. Every problem names
// its source and field; nothing is started here.
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { formatHostPort, isLoopbackHost } from './address.js';
import { ConfigError } from './errors.js';
import {
  CONFIG_FIELDS,
  DEFAULT_API_PORT,
  DEFAULT_LISTEN_PORT,
  FIELD_FLAGS,
  FIELD_SCHEMAS,
  FILE_SCHEMA,
  type ConfigField,
  type ParsedFields,
} from './schema.js';
import type { NodeConfig, NodeRole } from './types.js';

/** Least bytes of a cluster secret (krdma's MIN_SECRET_BYTES). */
export const MIN_SECRET_BYTES = 16;
/** Largest config file read (1 MiB) and largest secret file (64 KiB). */
const MAX_CONFIG_BYTES = 1024 * 1024;
const MAX_SECRET_BYTES = 64 * 1024;

/** Raw flag values as the CLI parsed them (strings; `peers` repeated; `apiAllowRemote` a switch). */
export type ConfigFlags = { [K in ConfigField]?: K extends 'peers' ? readonly string[] : K extends 'apiAllowRemote' ? boolean : string };

/** Inputs of {@link loadNodeConfig}. */
export interface LoadConfigInput {
  /** Path of a YAML or JSON config file, or undefined. */
  readonly configFile?: string;
  /** Flags (override the file). */
  readonly flags?: ConfigFlags;
  /** Base directory of relative paths given as flags (default: the process's cwd). */
  readonly cwd?: string;
  /** The default node name (default: the host name). */
  readonly defaultNodeName?: string;
}

function pathText(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : `${text === '' ? '' : '.'}${String(part)}`;
  return text;
}

function issueLines(prefix: string, error: z.ZodError, fieldPrefix = ''): string[] {
  return error.issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys.map((k) => `"${k}"`).join(', ');
      return `${prefix}: unknown field${issue.keys.length > 1 ? 's' : ''} ${keys}; the fields are ${CONFIG_FIELDS.join(', ')}`;
    }
    const field = fieldPrefix + pathText(issue.path);
    return `${prefix}: ${field === '' ? '' : `${field}: `}${issue.message}`;
  });
}

/** Reads and parses the config file into fields; problems are pushed to `problems`. */
function readConfigFile(file: string, label: string, problems: string[]): ParsedFields {
  let text: string;
  try {
    const info = statSync(file);
    if (!info.isFile()) {
      problems.push(`${label}: not a regular file`);
      return {};
    }
    if (info.size > MAX_CONFIG_BYTES) {
      problems.push(`${label}: the file is ${info.size} bytes; a config file is at most ${MAX_CONFIG_BYTES} bytes`);
      return {};
    }
    text = readFileSync(file, 'utf8');
  } catch (error) {
    problems.push(`${label}: cannot read the config file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return {};
  }
  let raw: unknown;
  try {
    raw = file.toLowerCase().endsWith('.json') ? JSON.parse(text) : parseYaml(text, { prettyErrors: true });
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const line = error.linePos?.[0];
      const reason = error.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      problems.push(`${label}: ${line !== undefined ? `line ${line.line}, column ${line.col}: ` : ''}not valid YAML: ${reason}`);
    } else {
      problems.push(`${label}: not valid JSON: ${(error as Error).message}`);
    }
    return {};
  }
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${label}: expected a mapping of fields like "nodeName: mem-1", got ${Array.isArray(raw) ? 'a list' : typeof raw}`);
    return {};
  }
  // A YAML key with no value (`peers:`) means "not set".
  const fields = Object.fromEntries(Object.entries(raw as Record<string, unknown>).filter(([, v]) => v !== null));
  const parsed = FILE_SCHEMA.safeParse(fields);
  if (!parsed.success) {
    problems.push(...issueLines(label, parsed.error));
    return {};
  }
  return parsed.data as ParsedFields;
}

/** Validates the flags one by one. */
function parseFlags(flags: ConfigFlags, problems: string[]): ParsedFields {
  const out: Record<string, unknown> = {};
  for (const field of CONFIG_FIELDS) {
    const value = flags[field];
    if (value === undefined) continue;
    const result = FIELD_SCHEMAS[field].safeParse(value);
    if (result.success) out[field] = result.data;
    else problems.push(...issueLines(FIELD_FLAGS[field], result.error).map((line) => line.replace(/^(--[a-z-]+): \[(\d+)\]: /, '$1 #$2: ')));
  }
  return out as ParsedFields;
}

/** Reads the secret file: at least 16 bytes, not readable or writable by every user. */
function loadSecret(path: string, label: string, problems: string[], warnings: string[]): Uint8Array {
  let bytes: Buffer;
  try {
    const info = statSync(path);
    if (!info.isFile()) {
      problems.push(`${label}: "${path}" is not a regular file`);
      return new Uint8Array(0);
    }
    if ((info.mode & 0o006) !== 0) {
      problems.push(`${label}: "${path}" can be read or written by every user (mode ${(info.mode & 0o777).toString(8)}); the cluster secret must be private: run chmod 600 ${path}`);
      return new Uint8Array(0);
    }
    if ((info.mode & 0o060) !== 0) warnings.push(`secret file "${path}" is accessible to its group (mode ${(info.mode & 0o777).toString(8)}); consider chmod 600 ${path}`);
    if (info.size > MAX_SECRET_BYTES) {
      problems.push(`${label}: "${path}" is ${info.size} bytes; a secret file is at most ${MAX_SECRET_BYTES} bytes`);
      return new Uint8Array(0);
    }
    bytes = readFileSync(path);
  } catch (error) {
    problems.push(`${label}: cannot read "${path}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
    return new Uint8Array(0);
  }
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  const secret = new Uint8Array(bytes.subarray(0, end));
  if (secret.length < MIN_SECRET_BYTES) {
    problems.push(`${label}: "${path}" holds ${secret.length} bytes; the cluster secret must be at least ${MIN_SECRET_BYTES} bytes (for example: head -c 32 /dev/urandom | base64 > ${path})`);
  }
  return secret;
}

/**
 * Loads and validates a node's configuration. Throws {@link ConfigError} listing every problem
 * (each names its file or flag and the field). Reads files only; starts nothing.
 */
export function loadNodeConfig(input: LoadConfigInput): NodeConfig {
  const problems: string[] = [];
  const warnings: string[] = [];
  const cwd = input.cwd ?? process.cwd();
  const configFile = input.configFile !== undefined ? resolve(cwd, input.configFile) : null;
  const fromFile = input.configFile !== undefined && configFile !== null ? readConfigFile(configFile, input.configFile, problems) : {};
  const fromFlags = parseFlags(input.flags ?? {}, problems);
  if (problems.length > 0) throw new ConfigError(problems);

  /** Where a field's value came from, for messages. */
  const source = (field: ConfigField): string =>
    fromFlags[field] !== undefined ? FIELD_FLAGS[field] : fromFile[field] !== undefined && input.configFile !== undefined ? `${input.configFile}: ${field}` : field;
  const merged: ParsedFields = { ...fromFile, ...fromFlags };

  const nodeName = merged.nodeName ?? input.defaultNodeName ?? hostname();
  if (merged.nodeName === undefined && FIELD_SCHEMAS.nodeName.safeParse(nodeName).success === false) {
    problems.push(`nodeName: the host name "${nodeName}" is not a valid node name; set nodeName in the config file or pass --name`);
  }
  const donateBytes = merged.donateBytes ?? 0;
  const role: NodeRole = merged.role ?? (donateBytes > 0 ? 'donor' : 'consumer');
  if (merged.role !== undefined) {
    if ((role === 'donor' || role === 'both') && donateBytes === 0) {
      problems.push(`${source('role')}: role "${role}" donates memory, but donateBytes is 0; set donateBytes (--donate), like "16GiB"`);
    }
    if (role === 'consumer' && donateBytes > 0) {
      problems.push(`${source('role')}: role "consumer" donates nothing, but donateBytes is ${donateBytes}; set role "both" or donateBytes 0`);
    }
  }
  const api = merged.api ?? { host: '127.0.0.1', port: DEFAULT_API_PORT };
  const apiAllowRemote = merged.apiAllowRemote ?? false;
  if (!isLoopbackHost(api.host) && !apiAllowRemote) {
    problems.push(
      `${source('api')}: ${formatHostPort(api)} is not a loopback address; the control API has no authentication, so it listens on loopback (127.0.0.1) unless you pass --api-allow-remote (apiAllowRemote: true)`,
    );
  }
  let secretFile = '';
  let secret: Uint8Array = new Uint8Array(0);
  if (merged.secretFile === undefined) {
    problems.push('secretFile: required: the path of a file holding the cluster secret (at least 16 bytes, the same on every node); pass --secret-file FILE or set secretFile in the config file');
  } else {
    // A relative path in the config file is relative to the file; on the command line, to the cwd.
    const base = fromFlags.secretFile === undefined && configFile !== null ? dirname(configFile) : cwd;
    secretFile = isAbsolute(merged.secretFile) ? merged.secretFile : resolve(base, merged.secretFile);
    secret = loadSecret(secretFile, source('secretFile'), problems, warnings);
  }
  const peers = [...new Map((merged.peers ?? []).map((p) => [formatHostPort(p), p])).values()];
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    nodeName,
    listen: merged.listen ?? { host: '0.0.0.0', port: DEFAULT_LISTEN_PORT },
    donateBytes,
    peers,
    secretFile,
    secret,
    transport: merged.transport ?? 'auto',
    api,
    apiAllowRemote,
    logFormat: merged.logFormat ?? 'json',
    logLevel: merged.logLevel ?? 'info',
    role,
    shutdownTimeoutMs: merged.shutdownTimeoutMs ?? 10_000,
    configFile,
    warnings,
  };
}
