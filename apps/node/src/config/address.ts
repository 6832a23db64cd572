// host:port addresses of the fabric listener, the control API and peers.

/** A host and a TCP port. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

const HOST_PATTERN = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const IPV6_PATTERN = /^[0-9A-Fa-f:.]+$/;

/**
 * Parses `host:port`, `[ipv6]:port`, or a bare `host` (then `defaultPort`). Ports are integers in
 * [0, 65535] (0 asks the system for a free port; allowed only when `allowZeroPort`). Returns an
 * error text instead of throwing.
 */
export function parseHostPort(input: string, defaultPort: number | null, allowZeroPort = false): HostPort | string {
  const text = input.trim();
  let host: string;
  let portText: string | null;
  const bracket = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
  if (bracket !== null) {
    host = bracket[1];
    portText = bracket[2] ?? null;
    if (!IPV6_PATTERN.test(host)) return `"${input}" is not an address like "10.0.0.18:7472" or "[::1]:7472"`;
  } else {
    const colon = text.lastIndexOf(':');
    if (colon !== text.indexOf(':')) return `"${input}": write an IPv6 address in brackets, like "[::1]:7472"`;
    host = colon >= 0 ? text.slice(0, colon) : text;
    portText = colon >= 0 ? text.slice(colon + 1) : null;
    if (!HOST_PATTERN.test(host)) return `"${input}" is not an address like "10.0.0.18:7472"`;
  }
  let port: number;
  if (portText === null) {
    if (defaultPort === null) return `"${input}" has no port; write it as host:port, like "10.0.0.18:7472"`;
    port = defaultPort;
  } else {
    if (!/^\d{1,5}$/.test(portText)) return `"${input}" has no valid port; write it as host:port, like "10.0.0.18:7472"`;
    port = Number(portText);
    if (port > 65535) return `"${input}": port ${port} is above 65535`;
    if (port === 0 && !allowZeroPort) return `"${input}": port 0 is not a port a peer can listen on`;
  }
  return { host, port };
}

/** Formats an address as `host:port` (`[v6]:port` for IPv6). */
export function formatHostPort(address: HostPort): string {
  return address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}

/** True for addresses that only this machine can reach: localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)) return true;
  return /^::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}
