// Seeded randomness for the core: no Math.random, so the same seed gives the same batches.

/** murmur3's 32-bit finaliser: a bijective avalanche mix of one 32-bit word. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hashes a list of non-negative integers (each below 2^53) into one 32-bit word. */
export function hashWords(...words: number[]): number {
  let h = 0x9e3779b9;
  for (const w of words) {
    const low = w >>> 0;
    const high = Math.floor(w / 0x1_0000_0000) >>> 0;
    h = mix32(h ^ low) + 0x7f4a7c15;
    h = mix32(h ^ high) + 0x7f4a7c15;
  }
  return mix32(h);
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128 bits of state, passes
 * PractRand, and cheap in 32-bit JavaScript arithmetic. Seeded through hashWords so nearby
 * seeds give unrelated streams.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;

  constructor(...seedWords: number[]) {
    this.a = hashWords(0xa5a5, ...seedWords);
    this.b = hashWords(0x5a5a, ...seedWords);
    this.c = hashWords(0x3c3c, ...seedWords);
    for (let i = 0; i < 12; i++) this.nextU32(); // let the counter decorrelate the words
  }

  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  nextFloat(): number {
    const high = this.nextU32() >>> 5; // 27 bits
    const low = this.nextU32() >>> 6; // 26 bits
    return (high * 67108864 + low) / 9007199254740992;
  }

  /** Uniform integer in [0, n) for 1 <= n <= 2^32; bias below n / 2^53. */
  nextInt(n: number): number {
    return Math.floor(this.nextFloat() * n);
  }
}
