// TypeScript port of native/core/rng.h (SplitMix64-based, counter-based): the references draw the same
// dropout masks and crops/flips as the native backends, from the definition rather than the code path.
const M64 = (1n << 64n) - 1n;

function mix64(z: bigint): bigint {
  z = (z + 0x9e3779b97f4a7c15n) & M64;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}

export function rngBits(seed: number | bigint, counter: number | bigint): bigint {
  return mix64(mix64(BigInt(seed)) ^ ((BigInt(counter) * 0xd1b54a32d192ed03n) & M64));
}

/** Uniform in [0, 1) with 24 bits (exactly representable in float32). */
export function rngUniform(seed: number | bigint, counter: number | bigint): number {
  return Number(rngBits(seed, counter) >> 40n) / 16777216;
}

export function rngBelow(seed: number | bigint, counter: number | bigint, n: number): number {
  return Number((rngBits(seed, counter) >> 32n) % BigInt(n));
}
