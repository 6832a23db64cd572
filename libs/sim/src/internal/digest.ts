// Rolling 32-bit determinism digest: FNV-1a applied word by word over integers (no strings on
// the hot path). Each step `h = imul(h ^ word, FNV_PRIME)` is a bijection of h for a fixed word,
// so a run that differs in exactly one mixed word always ends with a different digest.

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const TWO_POW_32 = 4294967296;

/** 32-bit FNV-1a of a string's UTF-16 code units (used for stream ids, never on the hot path). */
export function fnv1a32String(text: string): number {
  let h = FNV_OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    h = Math.imul(h ^ (unit & 0xff), FNV_PRIME);
    h = Math.imul(h ^ (unit >>> 8), FNV_PRIME);
  }
  return h >>> 0;
}

/** 32-bit FNV-1a over the 8 little-endian bytes of a non-negative safe integer. */
export function fnv1a32Integer(value: number): number {
  let h = FNV_OFFSET_BASIS;
  let word = value >>> 0;
  for (let i = 0; i < 4; i++) {
    h = Math.imul(h ^ (word & 0xff), FNV_PRIME);
    word >>>= 8;
  }
  word = Math.floor(value / TWO_POW_32) >>> 0;
  for (let i = 0; i < 4; i++) {
    h = Math.imul(h ^ (word & 0xff), FNV_PRIME);
    word >>>= 8;
  }
  return h >>> 0;
}

/**
 * The determinism digest of one simulation: a rolling hash over every processed event and every
 * random draw. Two runs with the same code, config and seed end with the same digest.
 */
export class Digest {
  private h = FNV_OFFSET_BASIS;
  private events = 0;
  private draws = 0;

  /** Mixes one processed event: its time, a kind id and two caller-supplied integers. */
  mixEvent(timeNs: number, kindId: number, i0: number, i1: number): void {
    let h = this.h;
    h = Math.imul(h ^ (timeNs >>> 0), FNV_PRIME);
    h = Math.imul(h ^ ((timeNs / TWO_POW_32) | 0), FNV_PRIME);
    h = Math.imul(h ^ kindId, FNV_PRIME);
    h = Math.imul(h ^ (i0 >>> 0), FNV_PRIME);
    h = Math.imul(h ^ Math.floor(i0 / TWO_POW_32), FNV_PRIME);
    h = Math.imul(h ^ (i1 >>> 0), FNV_PRIME);
    h = Math.imul(h ^ Math.floor(i1 / TWO_POW_32), FNV_PRIME);
    this.h = h ^ (h >>> 15);
    this.events++;
  }

  /** Mixes one raw 32-bit random draw of the stream with id `streamId`. */
  mixDraw(streamId: number, value: number): void {
    let h = this.h;
    h = Math.imul(h ^ streamId, FNV_PRIME);
    h = Math.imul(h ^ value, FNV_PRIME);
    this.h = h ^ (h >>> 15);
    this.draws++;
  }

  /** Mixes one arbitrary integer (for checkers and models that want extra state in the digest). */
  mixInteger(value: number): void {
    let h = this.h;
    h = Math.imul(h ^ (value >>> 0), FNV_PRIME);
    h = Math.imul(h ^ Math.floor(value / TWO_POW_32), FNV_PRIME);
    this.h = h ^ (h >>> 15);
  }

  /** The current digest as an unsigned 32-bit integer. */
  value(): number {
    return this.h >>> 0;
  }

  /** The current digest as 8 lower-case hex characters. */
  hex(): string {
    return (this.h >>> 0).toString(16).padStart(8, '0');
  }

  /** Number of events mixed so far. */
  get eventCount(): number {
    return this.events;
  }

  /** Number of random draws mixed so far. */
  get drawCount(): number {
    return this.draws;
  }
}
