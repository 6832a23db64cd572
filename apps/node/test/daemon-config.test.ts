import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { formatHostPort, isLoopbackHost, parseHostPort } from '../src/config/address.js';
import { ConfigError } from '../src/config/errors.js';
import { loadNodeConfig, type LoadConfigInput } from '../src/config/load.js';
import { formatBytes, parseSize } from '../src/config/size.js';
import { DaemonError } from '../src/daemon/errors.js';
import { resolveTransport, type FabricFactory } from '../src/daemon/transport.js';

const dir = mkdtempSync(join(tmpdir(), 'rackmem-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string, mode = 0o600): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  chmodSync(path, mode);
  return path;
}

const secret = file('secret', 'an-example-cluster-secret-0123456789\n');

/** The problems of a config that must fail. */
function problems(input: LoadConfigInput): string[] {
  try {
    loadNodeConfig({ cwd: dir, defaultNodeName: 'host-1', ...input });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).problems];
  }
  throw new Error('expected a ConfigError');
}

describe('sizes', () => {
  it('parses the forms operators write', () => {
    expect(parseSize('64GiB')).toBe(64 * 2 ** 30);
    expect(parseSize('512MiB')).toBe(512 * 2 ** 20);
    expect(parseSize('1.5GiB')).toBe(1.5 * 2 ** 30);
    expect(parseSize('16G')).toBe(16 * 2 ** 30);
    expect(parseSize('4k')).toBe(4096);
    expect(parseSize('10GB')).toBe(10 * 1e9);
    expect(parseSize(' 7 B ')).toBe(7);
    expect(parseSize('123')).toBe(123);
    expect(parseSize(4096)).toBe(4096);
    expect(parseSize(0)).toBe(0);
  });

  it('refuses what is not a whole, non-negative, safe number of bytes', () => {
    for (const bad of ['', 'lots', '-1', '1.5', '1.3B', '12 parsecs', 'GiB', '1e9', '0x10', '9999999TiB', -1, 1.5, 2 ** 60, null, true, {}, []]) {
      expect(parseSize(bad), JSON.stringify(bad)).toBeNull();
    }
  });

  it('round-trips integers and unit multiples', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom(['KiB', 2 ** 10], ['MiB', 2 ** 20], ['GiB', 2 ** 30], ['B', 1]), (n, [unit, scale]) => {
        expect(parseSize(String(n))).toBe(n);
        if (n * scale <= Number.MAX_SAFE_INTEGER) expect(parseSize(`${n}${unit}`)).toBe(n * scale);
      }),
      { numRuns: 200 },
    );
  });

  it('formats with binary units', () => {
    expect(formatBytes(64 * 2 ** 30)).toBe('64 GiB');
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536 * 2 ** 20)).toBe('1.50 GiB');
    expect(formatBytes(1000)).toBe('1000 B');
    expect(formatBytes(1.25 * 2 ** 30 + 1)).toBe('1.25 GiB');
  });
});

describe('addresses', () => {
  it('parses host:port, bare hosts and bracketed IPv6', () => {
    expect(parseHostPort('10.0.0.18:7472', null)).toEqual({ host: '10.0.0.18', port: 7472 });
    expect(parseHostPort('mem-2', 7472)).toEqual({ host: 'mem-2', port: 7472 });
    expect(parseHostPort('[::1]:7473', null)).toEqual({ host: '::1', port: 7473 });
    expect(parseHostPort('127.0.0.1:0', null, true)).toEqual({ host: '127.0.0.1', port: 0 });
    expect(formatHostPort({ host: '::1', port: 1 })).toBe('[::1]:1');
  });

  it('refuses malformed addresses with a reason', () => {
    for (const bad of ['', ':7472', 'a b:1', 'host:', 'host:99999', 'host:-1', '::1:7472', 'host:0', '[zz]:1']) {
      expect(typeof parseHostPort(bad, null), bad).toBe('string');
    }
    expect(parseHostPort('mem-2', null)).toMatch(/no port/);
  });

  it('knows loopback', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com']) expect(isLoopbackHost(h)).toBe(false);
  });
});

describe('loadNodeConfig', () => {
  it('applies the defaults', () => {
    const config = loadNodeConfig({ flags: { secretFile: secret }, cwd: dir, defaultNodeName: 'host-1' });
    expect(config).toMatchObject({
      nodeName: 'host-1',
      listen: { host: '0.0.0.0', port: 7472 },
      donateBytes: 0,
      peers: [],
      transport: 'auto',
      api: { host: '127.0.0.1', port: 7473 },
      apiAllowRemote: false,
      logFormat: 'json',
      logLevel: 'info',
      role: 'consumer',
      shutdownTimeoutMs: 10_000,
      configFile: null,
      warnings: [],
    });
    expect(Buffer.from(config.secret).toString()).toBe('an-example-cluster-secret-0123456789');
  });

  it('reads every field from YAML, and flags override the file', () => {
    const yaml = file(
      'full.yaml',
      [
        'nodeName: mem-1',
        'listen: 10.0.0.17:7600',
        'donateBytes: 64GiB',
        'peers: ["10.0.0.18:7472", "mem-3"]',
        'secretFile: secret',
        'transport: tcp',
        'api: 127.0.0.1:7700',
        'apiAllowRemote: false',
        'logFormat: pretty',
        'logLevel: debug',
        'role: both',
        'shutdownTimeoutMs: 5000',
      ].join('\n'),
    );
    const fromFile = loadNodeConfig({ configFile: yaml, cwd: '/' });
    expect(fromFile).toMatchObject({
      nodeName: 'mem-1',
      listen: { host: '10.0.0.17', port: 7600 },
      donateBytes: 64 * 2 ** 30,
      peers: [{ host: '10.0.0.18', port: 7472 }, { host: 'mem-3', port: 7472 }],
      secretFile: secret, // relative to the config file, not the cwd
      transport: 'tcp',
      api: { host: '127.0.0.1', port: 7700 },
      logFormat: 'pretty',
      logLevel: 'debug',
      role: 'both',
      shutdownTimeoutMs: 5000,
      configFile: yaml,
    });
    const overridden = loadNodeConfig({ configFile: yaml, cwd: dir, flags: { nodeName: 'mem-9', donateBytes: '512MiB', peers: ['10.0.0.19:7000'], logFormat: 'json', role: 'donor' } });
    expect(overridden).toMatchObject({ nodeName: 'mem-9', donateBytes: 512 * 2 ** 20, peers: [{ host: '10.0.0.19', port: 7000 }], logFormat: 'json', role: 'donor', transport: 'tcp' });
  });

  it('reads JSON files, with plain byte counts', () => {
    const json = file('node.json', JSON.stringify({ nodeName: 'mem-2', donateBytes: 1048576, secretFile: secret }));
    expect(loadNodeConfig({ configFile: json })).toMatchObject({ nodeName: 'mem-2', donateBytes: 1048576, role: 'donor' });
  });

  it('treats an empty file and YAML keys without values as unset', () => {
    expect(loadNodeConfig({ configFile: file('empty.yaml', ''), flags: { secretFile: secret }, defaultNodeName: 'h' }).donateBytes).toBe(0);
    expect(loadNodeConfig({ configFile: file('nulls.yaml', `peers:\nsecretFile: ${secret}\n`), defaultNodeName: 'h' }).peers).toEqual([]);
  });

  it('names the file and the field of every problem', () => {
    const bad = file('config.yaml', `donateBytes: lots\nsecretFile: ${secret}\n`);
    expect(problems({ configFile: bad })).toEqual([`${bad}: donateBytes: expected a size like "16GiB", "512MiB" or a number of bytes, got "lots"`]);
    const many = file('many.yaml', 'nodeName: "bad name!"\nlisten: "nowhere:99999"\npeers: ["ok:1", 7]\ntransport: udp\nlogFormat: xml\napiAllowRemote: maybe\n');
    const lines = problems({ configFile: many });
    expect(lines).toHaveLength(6);
    expect(lines[0]).toMatch(new RegExp(`^${many}: nodeName: expected 1 to 64 letters`));
    expect(lines[1]).toMatch(/: listen: "nowhere:99999": port 99999 is above 65535$/);
    expect(lines[2]).toMatch(/: peers\[1\]: expected an address like "10.0.0.18:7472"$/);
    expect(lines[3]).toMatch(/: transport: expected "rdma", "tcp" or "auto"$/);
    expect(lines[4]).toMatch(/: apiAllowRemote: expected true or false, got "maybe"$/);
    expect(lines[5]).toMatch(/: logFormat: expected "json" or "pretty"$/);
  });

  it('refuses unknown fields, non-mappings, bad syntax and missing files', () => {
    expect(problems({ configFile: file('typo.yaml', 'donate: 1GiB\n') })).toEqual([expect.stringMatching(/typo.yaml: unknown field "donate"; the fields are nodeName, listen, donateBytes/)]);
    expect(problems({ configFile: file('list.yaml', '- a\n- b\n') })[0]).toMatch(/list.yaml: expected a mapping of fields .* got a list/);
    expect(problems({ configFile: file('broken.yaml', 'nodeName: a\n  listen: [\n') })[0]).toMatch(/broken.yaml: line \d+, column \d+: not valid YAML/);
    expect(problems({ configFile: file('broken.json', '{"nodeName": ') })[0]).toMatch(/broken.json: not valid JSON/);
    expect(problems({ configFile: join(dir, 'missing.yaml') })[0]).toMatch(/missing.yaml: cannot read the config file: ENOENT/);
  });

  it('names the flag of a bad flag value', () => {
    expect(problems({ flags: { secretFile: secret, donateBytes: '12 parsecs' } })).toEqual(['--donate: expected a size like "16GiB", "512MiB" or a number of bytes, got "12 parsecs"']);
    expect(problems({ flags: { secretFile: secret, peers: ['a:1', 'b:x'] } })).toEqual([expect.stringMatching(/^--peer #1: "b:x" has no valid port/)]);
    expect(problems({ flags: { secretFile: secret, shutdownTimeoutMs: '5' } })[0]).toMatch(/^--shutdown-timeout-ms: expected milliseconds/);
  });

  it('requires a private secret file of at least 16 bytes', () => {
    expect(problems({})[0]).toMatch(/^secretFile: required: .* --secret-file FILE/);
    expect(problems({ flags: { secretFile: file('short', 'tooshort\n') } })[0]).toMatch(/--secret-file: ".*short" holds 8 bytes; the cluster secret must be at least 16 bytes/);
    const open = file('open-secret', 'an-example-cluster-secret-0123456789', 0o644);
    expect(problems({ flags: { secretFile: open } })[0]).toMatch(/can be read or written by every user \(mode 644\).*chmod 600/);
    expect(problems({ flags: { secretFile: join(dir, 'nope') } })[0]).toMatch(/cannot read ".*nope": ENOENT/);
    const group = file('group-secret', 'an-example-cluster-secret-0123456789', 0o640);
    expect(loadNodeConfig({ flags: { secretFile: group }, defaultNodeName: 'h' }).warnings[0]).toMatch(/accessible to its group/);
  });

  it('keeps the control API on loopback unless allowed', () => {
    expect(problems({ flags: { secretFile: secret, api: '0.0.0.0:7473' } })[0]).toMatch(/^--api: 0.0.0.0:7473 is not a loopback address;.*--api-allow-remote/);
    expect(loadNodeConfig({ flags: { secretFile: secret, api: '0.0.0.0:7473', apiAllowRemote: true }, defaultNodeName: 'h' }).api).toEqual({ host: '0.0.0.0', port: 7473 });
  });

  it('checks the role against the donation', () => {
    expect(loadNodeConfig({ flags: { secretFile: secret, donateBytes: '1GiB' }, defaultNodeName: 'h' }).role).toBe('donor');
    expect(problems({ flags: { secretFile: secret, role: 'donor' } })[0]).toMatch(/^--role: role "donor" donates memory, but donateBytes is 0/);
    expect(problems({ flags: { secretFile: secret, role: 'consumer', donateBytes: '1GiB' } })[0]).toMatch(/^--role: role "consumer" donates nothing/);
    expect(problems({ flags: { secretFile: secret, role: 'boss' } })[0]).toBe('--role: expected "donor", "consumer" or "both"');
  });

  it('refuses a host name that is not a valid node name', () => {
    expect(problems({ flags: { secretFile: secret }, defaultNodeName: 'a'.repeat(80) })[0]).toMatch(/^nodeName: the host name ".*" is not a valid node name/);
  });
});

describe('resolveTransport', () => {
  const tcpOnly: FabricFactory = { transports: ['tcp'], create: () => { throw new Error('unused'); } };
  const both: FabricFactory = { transports: ['tcp', 'rdma'], create: () => { throw new Error('unused'); } };

  it('picks rdma for auto only when a device exists and the fabric can be built', () => {
    expect(resolveTransport('auto', [], both)).toEqual({ transport: 'tcp', note: null });
    expect(resolveTransport('auto', ['mlx5_0'], both)).toEqual({ transport: 'rdma', note: null });
    expect(resolveTransport('auto', ['mlx5_0'], tcpOnly)).toEqual({ transport: 'tcp', note: expect.stringMatching(/mlx5_0 found.*using tcp/) });
    expect(resolveTransport('tcp', ['mlx5_0'], both).transport).toBe('tcp');
  });

  it('refuses rdma without a device or a verbs fabric', () => {
    expect(() => resolveTransport('rdma', ['mlx5_0'], tcpOnly)).toThrow(DaemonError);
    expect(() => resolveTransport('rdma', [], both)).toThrow(/no RDMA device/);
  });
});
