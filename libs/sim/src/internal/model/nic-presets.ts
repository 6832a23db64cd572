// NIC and fabric parameters (LogGP after simulation.md §2.4–2.5) and the four presets with the
// numbers and sources of simulation.md §8. Every parameter is an integer number of nanoseconds
// or a rate; derived per-byte costs are floats, and every duration computed from them is rounded
// to an integer once, when the message is costed.

/** Parameters of the simulated NIC, PCIe, links and remote software of one rack. */
export interface NicParams {
  /** Preset the parameters came from (or 'custom'). */
  readonly preset: string;
  /** Link data rate per direction in Gb/s (after line coding). */
  readonly linkGbps: number;
  /** Path MTU: payload bytes per packet. */
  readonly mtuBytes: number;
  /** Header and framing bytes per packet on the wire. */
  readonly headerBytes: number;
  /** Extra request bytes of a READ request or the first packet of a WRITE (RETH). */
  readonly requestExtraBytes: number;
  /** Payload bytes of an RPC message (alloc / free request or reply). */
  readonly rpcBytes: number;
  /** Latency of one PCIe crossing (doorbell, WQE fetch, DMA turnaround, CQE write). */
  readonly pcieNs: number;
  /** Effective PCIe bandwidth for payload DMA in Gb/s. */
  readonly pcieGbps: number;
  /** NIC message rate in millions of messages per second (the FIFO server's 1 / gap). */
  readonly nicMsgRateMps: number;
  /** NIC processing latency per message. */
  readonly nicProcNs: number;
  /** Propagation through wire and switch, one way. */
  readonly propNs: number;
  /** CPU cost of building and posting a work request with its doorbell. */
  readonly postNs: number;
  /** CPU cost of polling the completion. */
  readonly pollNs: number;
  /** Payloads up to this size are sent inline (no payload DMA read at the sender). */
  readonly inlineMaxBytes: number;
  /** Remote CPU cost of an RPC handler (slab alloc / free). */
  readonly rpcHandlerNs: number;
  /** false: reads and writes are served by the remote CPU too (TCP), costing rpcHandlerNs each. */
  readonly oneSided: boolean;
  /** RDMA READs outstanding per queue pair (compute node x memory node); the original used 1. */
  readonly qpMaxOutstandingReads: number;
  /** RDMA WRITEs outstanding per queue pair. */
  readonly qpMaxOutstandingWrites: number;
  /** An operation to a crashed or unreachable node completes with an error after this long. */
  readonly opTimeoutNs: number;
  /** The rack's failure detector marks a crashed node lost after this long. */
  readonly failureDetectNs: number;
}

/** Names of the built-in presets. */
export type NicPresetName = 'fdr56' | 'edr100' | 'roce25' | 'tcp10';

/** Where each preset's numbers come from (simulation.md §8 tags: src, derived, est, meas). */
export const NIC_PRESET_SOURCES: Readonly<Record<NicPresetName, readonly string[]>> = {
  fdr56: [
    'link 54.5 Gb/s: FDR 4x 56.25 Gb/s signalling after 64b/66b [src IBTA lane rates, derived]',
    'PCIe Gen3 x8 effective ~50 Gb/s for data [src pcie-bench, Neugebauer et al. SIGCOMM 2018]',
    'MTU 2048, 26 B LRH+BTH+ICRC+VCRC (+4 B AETH) per packet, RETH 16 B on requests [src transport spec, est choice of MTU]',
    'PCIe crossing 250 ns [src sPIN slides, approximate]; NIC processing 100 ns, post 200 ns, poll 100 ns, propagation 300 ns [est]',
    'ConnectX-3 message rate ~30 M msg/s [est]',
    '=> one 4 KiB READ ~3.2 us (model), against the "~3 us expected" FDR figure [est]',
  ],
  edr100: [
    'link 100 Gb/s: EDR 4x data rate [src IBTA lane rates]',
    'PCIe Gen3 x16 effective ~100 Gb/s [est, simulation.md §8 preset table]',
    'MTU 4096; 250 ns per PCIe crossing [src sPIN slides]; post 200 ns, 300 ns propagation, 100 ns NIC processing as the sanity-check model of simulation.md §8 [est]',
    'ConnectX-5 message rate ~150 M msg/s (100-200 M) [est]',
    '=> one 4 KiB READ ~2.9 us (model), within the 2.5-3 us expected for EDR [est]',
  ],
  roce25: [
    'link 25 Gb/s: 25GbE 25.78125 Gb/s signalling after 64b/66b [src, derived]',
    'RoCEv2 MTU 1024 under a 1500 B Ethernet MTU; 62 B Ethernet+IPv4+UDP+BTH+ICRC + 20 B preamble/IFG per packet [src transport spec, derived]',
    'PCIe Gen3 x8 ~50 Gb/s [src pcie-bench]; ConnectX-4 Lx ~50 M msg/s [est]',
    'propagation 500 ns through a store-and-forward Ethernet ToR switch [est]',
  ],
  tcp10: [
    'link 10 Gb/s, 1448 B TCP payload per 1500 B frame; 90 B headers+framing (Ethernet 18, IPv4 20, TCP 32 with timestamps, preamble/IFG 20) [src, derived]',
    'kernel TCP: ~10-20 us software per message (syscalls, stack, copies, wake-ups): post 8 us + poll 4 us per side and 5 us of remote CPU per request [est]',
    'no one-sided operations: every read and write is served by the donor CPU (oneSided=false); 64 requests pipelined per connection (DESIGN.md krdma TCP transport) [est]',
    'kernel NIC path ~1 M msg/s per core [est]',
  ],
};

const COMMON = {
  rpcBytes: 64,
  inlineMaxBytes: 188,
  qpMaxOutstandingReads: 1,
  qpMaxOutstandingWrites: 16,
  opTimeoutNs: 200_000,
  failureDetectNs: 500_000,
} as const;

/** The presets. Numbers and sources: `NIC_PRESET_SOURCES` and the package README. */
export const NIC_PRESETS: Readonly<Record<NicPresetName, NicParams>> = {
  fdr56: {
    ...COMMON, preset: 'fdr56', linkGbps: 54.5, mtuBytes: 2048, headerBytes: 30, requestExtraBytes: 16,
    pcieNs: 250, pcieGbps: 50, nicMsgRateMps: 30, nicProcNs: 100, propNs: 300, postNs: 200, pollNs: 100,
    rpcHandlerNs: 1000, oneSided: true,
  },
  edr100: {
    ...COMMON, preset: 'edr100', linkGbps: 100, mtuBytes: 4096, headerBytes: 30, requestExtraBytes: 16,
    pcieNs: 250, pcieGbps: 100, nicMsgRateMps: 150, nicProcNs: 100, propNs: 300, postNs: 200, pollNs: 100,
    rpcHandlerNs: 1000, oneSided: true,
  },
  roce25: {
    ...COMMON, preset: 'roce25', linkGbps: 25, mtuBytes: 1024, headerBytes: 82, requestExtraBytes: 16,
    pcieNs: 250, pcieGbps: 50, nicMsgRateMps: 50, nicProcNs: 100, propNs: 500, postNs: 200, pollNs: 100,
    rpcHandlerNs: 1000, oneSided: true,
  },
  tcp10: {
    ...COMMON, preset: 'tcp10', linkGbps: 10, mtuBytes: 1448, headerBytes: 90, requestExtraBytes: 16,
    pcieNs: 250, pcieGbps: 50, nicMsgRateMps: 1, nicProcNs: 100, propNs: 1000, postNs: 8000, pollNs: 4000,
    rpcHandlerNs: 5000, oneSided: false, qpMaxOutstandingReads: 64, qpMaxOutstandingWrites: 64,
    opTimeoutNs: 1_000_000, failureDetectNs: 2_000_000,
  },
};

/** Preset names in documentation order. */
export const NIC_PRESET_NAMES: readonly NicPresetName[] = ['fdr56', 'edr100', 'roce25', 'tcp10'];
