// The daemon's log lines. Each `msg` reads like a line of the original RackMem kernel log
// (`krdma: module loaded: ...`, `connection established with ...`); each line also carries an
// `event` name and the values as fields, for machines.
import type { Logger } from 'pino';

/** The parameters logged when a region is created (the original rack_vm's creation line). */
export interface RegionCreatedFields {
  readonly name: string;
  readonly sizeBytes: number;
  readonly pageSizeBytes: number;
  readonly localPages: number;
  readonly slabSizeBytes: number;
}

/** `module loaded: NAME (ADDR, PORT)`: the fabric listens. */
export function logModuleLoaded(log: Logger, fields: { nodeName: string; host: string; port: number; transport: string; role: string; donateBytes: number }): void {
  log.info({ event: 'module-loaded', ...fields }, `module loaded: ${fields.nodeName} (${fields.host}, ${fields.port})`);
}

/** `api listening on ADDR`: the control API is up. */
export function logApiListening(log: Logger, fields: { host: string; port: number }): void {
  log.info({ event: 'api-listening', ...fields }, `api listening on ${fields.host.includes(':') ? `[${fields.host}]` : fields.host}:${fields.port}`);
}

/** `connection established with NAME`. */
export function logConnectionEstablished(log: Logger, fields: { peer: string; address: string | null; direction: string }): void {
  log.info({ event: 'connection-established', ...fields }, `connection established with ${fields.peer}`);
}

/** `connection lost with NAME (reason)` (and its refused / closed forms). */
export function logConnectionEnded(log: Logger, kind: 'lost' | 'refused' | 'closed', fields: { peer: string; address: string | null; direction: string; reason: string | null }): void {
  const reason = fields.reason ?? 'no reason given';
  const event = `connection-${kind}`;
  if (kind === 'lost') log.warn({ event, ...fields }, `connection lost with ${fields.peer} (${reason})`);
  else if (kind === 'refused') log.warn({ event, ...fields }, `connection refused with ${fields.peer} (${reason})`);
  else log.info({ event, ...fields }, `connection closed with ${fields.peer} (${reason})`);
}

/** `region created: NAME (size, page_size, local_pages, slab_size)`. */
export function logRegionCreated(log: Logger, fields: RegionCreatedFields): void {
  log.info(
    { event: 'region-created', ...fields },
    `region created: ${fields.name} (${fields.sizeBytes}, ${fields.pageSizeBytes}, ${fields.localPages}, ${fields.slabSizeBytes})`,
  );
}

/** `region closed: NAME` with its final counters (the original logs them when a region is freed). */
export function logRegionClosed(log: Logger, fields: { name: string; counters: Record<string, number> }): void {
  log.info({ event: 'region-closed', ...fields }, `region closed: ${fields.name}`);
}
