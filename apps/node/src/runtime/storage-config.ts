/** Where a paged region's pages go when they leave local memory. */
export type StorageConfig =
  | {
      /** Local memory inside the pager (LocalPageStore; faults copy straight from it): no network. */
      kind: 'local';
      /** Capacity of the local backend in bytes (default: the region size). */
      capacityBytes?: number;
    }
  | {
      /** Memory donated by other nodes, reached through the pager thread's own krdma fabric. */
      kind: 'remote';
      /**
       * `tcp` (default): krdma's TcpFabric. `rdma`: krdma's VerbsFabric, the TCP control plane plus
       * one-sided RDMA READ/WRITE to the donors' registered memory (needs a verbs device here and
       * donors started with `--transport rdma`; a TCP-only donor's pages still go over TCP).
       */
      transport?: 'tcp' | 'rdma';
      /** Donor addresses, `host:port`. */
      donors: string[];
      /** The cluster secret (hex). */
      secretHex: string;
      /** This node's name on the wire. */
      nodeName: string;
      /** Copies of each slab on distinct donors (default 1). */
      replication?: number;
      /** Slab size in bytes (default 64 MiB). */
      slabSizeBytes?: number;
      /** Capacity to assume per donor until it reports its own (default: region size). */
      capacityBytesPerDonor?: number;
      /** Request timeout in ms (default 2000). */
      requestTimeoutMs?: number;
    };
