import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, expect, it } from 'vitest';
import { loadNodeConfig } from '../src/config/load.js';
import { Daemon } from '../src/daemon/daemon.js';
import { createLogger } from '../src/logging/logger.js';
import { PagedRegionService } from '../src/region/region-service.js';
import { describeWithUffd } from './uffd-available.js';

const MiB = 1 << 20;
const dir = mkdtempSync(join(tmpdir(), 'rackmem-regions-'));
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, 'an-example-cluster-secret-0123456789', { mode: 0o600 });

class Lines extends Writable {
  readonly messages: string[] = [];
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    for (const line of chunk.toString().split('\n')) if (line) this.messages.push(String((JSON.parse(line) as { msg: string }).msg));
    done();
  }
}

describeWithUffd('the daemon with paged regions (the original debugfs files as an HTTP API)', () => {
  const daemons: Daemon[] = [];
  afterAll(async () => {
    await Promise.all(daemons.map((d) => d.stop('test over')));
  });

  it('lists a region with its stat counters, changes its limit, refuses bad limits, and logs like the original', async () => {
    const log = new Lines();
    let service: PagedRegionService | undefined;
    const config = loadNodeConfig({ flags: { nodeName: 'compute-1', secretFile, listen: '127.0.0.1:0', api: '127.0.0.1:0', transport: 'tcp', shutdownTimeoutMs: '5000' } });
    const daemon = await Daemon.start({
      config,
      logger: createLogger({ destination: log, level: 'info' }),
      processMetrics: false,
      regions: (context) => (service = new PagedRegionService(context)),
    });
    daemons.push(daemon);
    const region = await service!.open({ name: 'vm-1', sizeBytes: 16 * MiB, localBytes: 4 * MiB, policySet: 'improved' });
    const bytes = new Uint8Array(region.arrayBuffers()[0]);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 7;
    await region.sync();
    expect(log.messages).toContain(`region created: vm-1 (${16 * MiB}, 4096, 1024, ${64 * MiB})`);

    const api = `http://127.0.0.1:${daemon.apiAddress.port}`;
    const stat = (await (await fetch(`${api}/v1/regions/vm-1/stat`)).json()) as { stat: Record<string, number>; dirtyTracking: string; pager: Record<string, number> };
    expect(stat.stat.pgfault).toBeGreaterThanOrEqual(4096);
    expect(stat.pager.messagesRead).toBeGreaterThanOrEqual(4096); // the pager thread's own counters
    expect(stat.stat.slab_alloc).toBeUndefined(); // local storage: no dvs counters
    expect(stat.dirtyTracking).toBe(region.dirtyTracking);
    expect(['async', 'write-protect']).toContain(stat.dirtyTracking); // the improved set tracks dirtiness
    expect(stat.stat.page_count_limit).toBe(1024);
    expect(stat.stat.page_count).toBeLessThanOrEqual(1024);

    const put = (bytes: unknown) => fetch(`${api}/v1/regions/vm-1/limit`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ bytes }) });
    expect((await put(2 * MiB)).status).toBe(200);
    await region.sync();
    const after = (await (await fetch(`${api}/v1/regions/vm-1/stat`)).json()) as { stat: Record<string, number> };
    expect(after.stat.page_count_limit).toBe(512);
    expect(after.stat.page_count).toBeLessThanOrEqual(512);
    for (const bad of [0, 64 * MiB, -5, 'lots']) {
      const response = await put(bad);
      expect(response.status, `limit ${String(bad)}`).toBe(400);
    }
    expect((await fetch(`${api}/v1/regions/nope/stat`)).status).toBe(404);
    let still = 0;
    for (let i = 0; i < bytes.length; i += 4096) if (bytes[i] === 7) still++;
    expect(still).toBe(4096);
  }, 60_000);
});
