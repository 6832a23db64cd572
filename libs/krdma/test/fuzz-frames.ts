// Mutations of encoded frames for fuzzing the decoder (used by the fuzz test and bench/fuzz.ts).
// A mutator takes a valid frame and a seeded random source and returns hostile bytes.

/** Integer in [0, bound) from a seeded source. */
export type RandomBelow = (bound: number) => number;

const HEADER_BYTES = 16;

function randomBytes(random: RandomBelow, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = random(256);
  return out;
}

function writeU32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value & 0xff;
  buf[at + 1] = (value >>> 8) & 0xff;
  buf[at + 2] = (value >>> 16) & 0xff;
  buf[at + 3] = (value >>> 24) & 0xff;
}

/** Interesting 32-bit values for length and count fields. */
const EDGE_U32 = [0, 1, 2, 3, 4, 15, 16, 17, 255, 256, 4095, 4096, 4097, 65535, 65536, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

/** Names of the mutations, for reporting. */
export const MUTATIONS = [
  'random-bytes',
  'random-header-valid-magic',
  'flip-bits',
  'set-bytes',
  'truncate',
  'extend',
  'edge-length',
  'edge-u32-in-payload',
  'splice-two',
  'unchanged',
] as const;

/** Returns a mutated copy of `frame` (another valid frame `other` is used for splicing). */
export function mutateFrame(frame: Uint8Array, other: Uint8Array, random: RandomBelow): Uint8Array {
  const kind = MUTATIONS[random(MUTATIONS.length)];
  const copy = frame.slice();
  switch (kind) {
    case 'random-bytes':
      return randomBytes(random, random(96));
    case 'random-header-valid-magic': {
      const out = randomBytes(random, HEADER_BYTES + random(128));
      out[0] = 0x4b;
      out[1] = 0x52;
      out[2] = 1;
      if (random(2) === 0) {
        out[4] = 0;
        out[5] = 0;
        out[6] = 0;
        out[7] = 0;
      }
      if (random(2) === 0) writeU32(out, 12, out.length - HEADER_BYTES);
      return out;
    }
    case 'flip-bits': {
      const flips = 1 + random(4);
      for (let i = 0; i < flips; i++) copy[random(copy.length)] ^= 1 << random(8);
      return copy;
    }
    case 'set-bytes': {
      const sets = 1 + random(4);
      for (let i = 0; i < sets; i++) copy[random(copy.length)] = random(256);
      return copy;
    }
    case 'truncate':
      return copy.subarray(0, random(copy.length));
    case 'extend': {
      const out = new Uint8Array(copy.length + 1 + random(64));
      out.set(copy);
      out.set(randomBytes(random, out.length - copy.length), copy.length);
      return out;
    }
    case 'edge-length':
      writeU32(copy, 12, random(2) === 0 ? EDGE_U32[random(EDGE_U32.length)] : random(0x10000));
      return copy;
    case 'edge-u32-in-payload':
      if (copy.length >= HEADER_BYTES + 4) writeU32(copy, HEADER_BYTES + random(copy.length - HEADER_BYTES - 3), EDGE_U32[random(EDGE_U32.length)]);
      return copy;
    case 'splice-two': {
      const cut = random(copy.length + 1);
      const from = random(other.length + 1);
      const out = new Uint8Array(cut + other.length - from);
      out.set(copy.subarray(0, cut));
      out.set(other.subarray(from), cut);
      return out;
    }
    case 'unchanged':
      return copy;
  }
}
