// Prometheus metrics of a node (prom-client, a registry per node): per-region vm, dvs and pager counters
// and gauges labelled by region, the donor's capacity and use, peer states, API requests, fabric
// socket counters and the process metrics. Region and peer values are read at scrape time.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { PeerService, RegionService } from '../daemon/ports.js';
import { PAGER_HIGH_WATER_COUNTER } from '../pager/stats.js';

/** A donor's figures (krdma DonorStats). */
export interface DonorFigures {
  readonly capacityBytes: number;
  readonly usedBytes: number;
  readonly slabCount: number;
}

/** Where the metrics come from. */
export interface MetricsSources {
  readonly node: { readonly nodeName: string; readonly transport: string; readonly role: string };
  readonly regions: RegionService;
  readonly peers: PeerService;
  /** The donor's figures, or null when the node donates nothing. */
  readonly donor: () => DonorFigures | null;
  /** Transport counters (totals), for example TcpFabric's bytesRead; names in snake_case or camelCase. */
  readonly fabricCounters?: () => Record<string, number>;
  /** Collect process metrics (CPU, memory, event loop, GC): default true. */
  readonly processMetrics?: boolean;
}

/** A Prometheus metric name from a counter name: lower case, [a-z0-9_]. */
export function metricName(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_');
}

const GAUGE_NAMES: Readonly<Record<string, string>> = {
  region_size: 'rackmem_region_size_bytes',
  region_page_size: 'rackmem_region_page_size_bytes',
};

function gaugeMetricName(gauge: string): string {
  return GAUGE_NAMES[gauge] ?? `rackmem_region_${metricName(gauge.replace(/^region_/, ''))}`;
}

/** The metrics registry of one node. */
export class NodeMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly counters = new Map<string, Counter<string>>();
  private readonly gauges = new Map<string, Gauge<string>>();

  constructor(private readonly sources: MetricsSources) {
    if (sources.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
    this.requests = new Counter({
      name: 'rackmem_api_requests_total',
      help: 'Control API requests by method, route and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
  }

  /** Counts an API request. */
  countRequest(method: string, route: string, status: number): void {
    this.requests.inc({ method, route, status: String(status) });
  }

  /** The Prometheus text exposition format's content type. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** Reads the sources and renders every metric as Prometheus text. */
  async render(): Promise<string> {
    for (const metric of this.counters.values()) metric.reset();
    for (const metric of this.gauges.values()) metric.reset();
    const { node } = this.sources;
    this.gauge('rackmem_node_info', 'This node: name, transport and role (always 1)', ['node', 'transport', 'role']).set({ node: node.nodeName, transport: node.transport, role: node.role }, 1);
    for (const region of this.sources.regions.list()) {
      const labels = { region: region.name };
      for (const [name, value] of Object.entries(region.counters)) {
        if (!(value >= 0)) continue;
        this.counter(`rackmem_vm_${metricName(name)}_total`, `rack_vm event counter ${name}, per region`, ['region']).inc(labels, value);
      }
      for (const [name, value] of Object.entries(region.dvs)) {
        if (!(value >= 0)) continue;
        this.counter(`rackmem_dvs_${metricName(name)}_total`, `rack_dvs event counter ${name}, per region`, ['region']).inc(labels, value);
      }
      for (const [name, value] of Object.entries(region.pager ?? {})) {
        if (!(value >= 0)) continue;
        if (name === PAGER_HIGH_WATER_COUNTER) this.gauge(`rackmem_pager_${metricName(name)}`, `pager thread high-water mark ${name}, per region`, ['region']).set(labels, value);
        else this.counter(`rackmem_pager_${metricName(name)}_total`, `pager thread counter ${name}, per region`, ['region']).inc(labels, value);
      }
      for (const [name, value] of Object.entries(region.gauges)) {
        this.gauge(gaugeMetricName(name), `region gauge ${name}`, ['region']).set(labels, value);
      }
      this.gauge('rackmem_region_local_bytes', 'The local memory budget of a region in bytes (memory_limit_bytes)', ['region']).set(labels, region.localBytes);
    }
    const donor = this.sources.donor();
    if (donor !== null) {
      this.gauge('rackmem_donor_capacity_bytes', 'Bytes this node lends to peers at most', []).set(donor.capacityBytes);
      this.gauge('rackmem_donor_used_bytes', 'Bytes this node lends to peers now', []).set(donor.usedBytes);
      this.gauge('rackmem_donor_slabs', 'Slabs this node lends to peers now', []).set(donor.slabCount);
    }
    const peers = this.sources.peers.list();
    const byState = this.gauge('rackmem_peers', 'Peers by connection state', ['state']);
    for (const state of ['up', 'connecting', 'authenticating', 'lost', 'refused', 'closed']) byState.set({ state }, peers.filter((p) => p.state === state).length);
    const up = this.gauge('rackmem_peer_up', 'Whether a named peer is connected (1) or not (0)', ['peer']);
    for (const peer of peers) if (peer.nodeName !== null) up.set({ peer: peer.nodeName }, peer.state === 'up' ? 1 : 0);
    const fabric = this.sources.fabricCounters?.() ?? {};
    for (const [name, value] of Object.entries(fabric)) {
      if (!(value >= 0)) continue;
      this.counter(`rackmem_fabric_${metricName(name)}_total`, `fabric transport counter ${name}`, []).inc(value);
    }
    // prom-client prints an empty event-loop histogram's mean as "Nan"; the text format spells it "NaN".
    return (await this.registry.metrics()).replace(/ Nan$/gm, ' NaN');
  }

  private counter(name: string, help: string, labelNames: string[]): Counter<string> {
    let metric = this.counters.get(name);
    if (metric === undefined) {
      metric = new Counter({ name, help, labelNames, registers: [this.registry] });
      this.counters.set(name, metric);
    }
    return metric;
  }

  private gauge(name: string, help: string, labelNames: string[]): Gauge<string> {
    let metric = this.gauges.get(name);
    if (metric === undefined) {
      metric = new Gauge({ name, help, labelNames, registers: [this.registry] });
      this.gauges.set(name, metric);
    }
    return metric;
  }
}
