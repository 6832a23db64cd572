import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { logConnectionEnded, logConnectionEstablished, logModuleLoaded, logRegionCreated } from '../src/logging/events.js';
import { createLogger } from '../src/logging/logger.js';

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

function emitAll(format: 'json' | 'pretty'): string {
  const sink = new Sink();
  const log = createLogger({ format, destination: sink, colorize: false, base: { node: 'mem-1' } });
  logModuleLoaded(log, { nodeName: 'mem-1', host: '0.0.0.0', port: 7472, transport: 'tcp', role: 'donor', donateBytes: 2 ** 30 });
  logConnectionEstablished(log, { peer: 'mem-2', address: '10.0.0.18:7472', direction: 'outbound' });
  logConnectionEnded(log, 'lost', { peer: 'mem-2', address: '10.0.0.18:7472', direction: 'outbound', reason: 'heartbeat timeout' });
  logRegionCreated(log, { name: 'r1', sizeBytes: 134217728, pageSizeBytes: 4096, localPages: 32768, slabSizeBytes: 67108864 });
  return sink.text;
}

describe('logs', () => {
  it('are JSON lines whose msg reads like the original kernel log', () => {
    const lines = emitAll('json').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => l.msg)).toEqual([
      'module loaded: mem-1 (0.0.0.0, 7472)',
      'connection established with mem-2',
      'connection lost with mem-2 (heartbeat timeout)',
      'region created: r1 (134217728, 4096, 32768, 67108864)',
    ]);
    expect(lines[0]).toMatchObject({ level: 30, node: 'mem-1', event: 'module-loaded', port: 7472, donateBytes: 2 ** 30, time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) });
    expect(lines[2]).toMatchObject({ level: 40, event: 'connection-lost', reason: 'heartbeat timeout' });
    expect(lines[3]).toMatchObject({ event: 'region-created', localPages: 32768 });
  });

  it('are one readable line each in pretty mode', () => {
    const lines = emitAll('pretty').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [+-]\d{4}\] INFO: module loaded: mem-1 \(0\.0\.0\.0, 7472\)$/);
    expect(lines[2]).toMatch(/WARN: connection lost with mem-2 \(heartbeat timeout\)$/);
  });
});
