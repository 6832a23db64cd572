/** Default TCP port of a krdma node (the original's 7472). */
export const DEFAULT_PORT = 7472;

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const utf8 = new TextEncoder();

/**
 * The 32-bit identity hash of a node name: FNV-1a (32-bit) over the UTF-8 bytes of the name.
 * Returns an unsigned integer in [0, 2^32).
 */
export function nodeHash(nodeName: string): number {
  const bytes = utf8.encode(nodeName);
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i];
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

/** A node's identity: its name and the 32-bit hash of the name (see {@link nodeHash}). */
export interface NodeIdentity {
  readonly nodeName: string;
  readonly nodeHash: number;
}

/** Builds a {@link NodeIdentity} from a name. */
export function nodeIdentity(nodeName: string): NodeIdentity {
  return { nodeName, nodeHash: nodeHash(nodeName) };
}
