// Seeded mutations of valid files (truncations, bit flips, huge lengths, inserted/deleted/duplicated
// ranges) and the bookkeeping every fuzz target shares: each input must end in the parser's own error
// with a clear message, or in a result an independent check accepts, within a time and memory bound.
import { Rng } from '../lib/data/rng.js';

export { Rng };

/** Values that break length fields: zero, off-by-one, 2^31, 2^32, 1 TB, 2^53, 2^64 - 1. */
export const HUGE = [0n, 1n, 2n ** 31n - 1n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 40n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];

export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.nextInt(xs.length)];

/** One random byte-level mutation of `src` (never in place). */
export function mutateBytes(src: Uint8Array, rng: Rng): { bytes: Uint8Array; how: string } {
  const n = src.length;
  const at = () => (n === 0 ? 0 : rng.nextInt(n));
  const out = () => Uint8Array.from(src);
  switch (rng.nextInt(10)) {
    case 0: {
      const len = rng.nextInt(4) === 0 ? rng.nextInt(Math.min(n, 64) + 1) : at();
      return { bytes: src.slice(0, len), how: `truncate to ${len}` };
    }
    case 1: {
      const b = out();
      const k = 1 + rng.nextInt(8);
      for (let i = 0; i < k && n > 0; i++) b[at()] ^= 1 << rng.nextInt(8);
      return { bytes: b, how: `flip ${k} bits` };
    }
    case 2: {
      const b = out();
      const i = at();
      if (n > 0) b[i] = pick(rng, [0, 0xff, 0x7f, 0x80, rng.nextInt(256)]);
      return { bytes: b, how: `set byte ${i}` };
    }
    case 3: {
      // a little-endian 32- or 64-bit length field somewhere
      const b = out();
      const w = rng.nextInt(2) ? 8 : 4;
      const i = n > w ? rng.nextInt(Math.min(n - w, rng.nextInt(3) === 0 ? 16 : n - w) + 1) : 0;
      if (n >= w) {
        const v = pick(rng, HUGE);
        const dv = new DataView(b.buffer);
        if (w === 8) dv.setBigUint64(i, v, true);
        else dv.setUint32(i, Number(v & 0xffffffffn), true);
      }
      return { bytes: b, how: `huge ${w * 8}-bit value at ${i}` };
    }
    case 4: {
      const i = at();
      const k = 1 + rng.nextInt(32);
      const ins = new Uint8Array(k).map(() => rng.nextInt(256));
      const b = new Uint8Array(n + k);
      b.set(src.subarray(0, i));
      b.set(ins, i);
      b.set(src.subarray(i), i + k);
      return { bytes: b, how: `insert ${k} at ${i}` };
    }
    case 5: {
      const i = at();
      const k = Math.min(n - i, 1 + rng.nextInt(64));
      const b = new Uint8Array(n - k);
      b.set(src.subarray(0, i));
      b.set(src.subarray(i + k), i);
      return { bytes: b, how: `delete ${k} at ${i}` };
    }
    case 6: {
      const i = at();
      const k = Math.min(n - i, 1 + rng.nextInt(256));
      const b = new Uint8Array(n + k);
      b.set(src.subarray(0, i + k));
      b.set(src.subarray(i, i + k), i + k);
      b.set(src.subarray(i + k), i + 2 * k);
      return { bytes: b, how: `duplicate ${k} at ${i}` };
    }
    case 7: {
      const k = 1 + rng.nextInt(4096);
      const b = new Uint8Array(n + k);
      b.set(src);
      if (rng.nextInt(2)) for (let i = n; i < n + k; i++) b[i] = rng.nextInt(256);
      return { bytes: b, how: `append ${k}` };
    }
    case 8: {
      const b = out();
      const i = at();
      const k = Math.min(n - i, 1 + rng.nextInt(512));
      b.fill(pick(rng, [0, 0xff, 0x20]), i, i + k);
      return { bytes: b, how: `fill ${k} at ${i}` };
    }
    default: {
      const b = out();
      const i = at();
      const j = at();
      const k = Math.min(n - Math.max(i, j), 1 + rng.nextInt(128));
      if (k > 0) b.copyWithin(i, j, j + k);
      return { bytes: b, how: `copy ${k} from ${j} to ${i}` };
    }
  }
}

/** Several mutations in a row (1 most often). */
export function mutateMany(src: Uint8Array, rng: Rng): { bytes: Uint8Array; how: string } {
  const k = rng.nextInt(4) === 0 ? 2 + rng.nextInt(3) : 1;
  let bytes = src;
  const hows: string[] = [];
  for (let i = 0; i < k; i++) {
    const m = mutateBytes(bytes, rng);
    bytes = m.bytes;
    hows.push(m.how);
  }
  return { bytes, how: hows.join(', ') };
}

export interface FuzzReport {
  parser: string;
  inputs: number;
  /** Inputs that parsed and passed the independent check. */
  accepted: number;
  /** Inputs refused with the parser's own error and a clear message. */
  refused: number;
  failures: string[];
  /** Slowest single input (ms). */
  maxMs: number;
  seconds: number;
  /** Highest resident set size seen (MiB). */
  maxRssMiB: number;
  /** The most frequent refusal messages (digits folded), for the report. */
  topMessages: [string, number][];
}

/** Runs `count` inputs through `one`, which returns 'accepted', or throws; `expected(e)` says whether an
 *  error is a clear refusal. Records anything else (or an input slower than `boundMs`) as a failure. */
export async function campaign(parser: string, count: number, boundMs: number,
  one: (i: number) => Promise<{ how: string; run: () => Promise<'accepted'> | 'accepted' }>,
  expected: (e: unknown) => string | null): Promise<FuzzReport> {
  const t0 = performance.now();
  const r: FuzzReport = { parser, inputs: 0, accepted: 0, refused: 0, failures: [], maxMs: 0, seconds: 0, maxRssMiB: 0, topMessages: [] };
  const messages = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const input = await one(i);
    const s = performance.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const hang = new Promise<never>((_, rej) => { timer = setTimeout(() => rej(new Error(`HANG: no answer after ${boundMs} ms`)), boundMs); });
      await Promise.race([Promise.resolve().then(input.run), hang]);
      r.accepted++;
    } catch (e) {
      const why = expected(e);
      if (why === null) {
        r.refused++;
        const key = String((e as Error).message).replace(/\/[^\s:]*\//g, '/…/').replace(/(?<![-\w])\d+/g, 'N').slice(0, 110);
        messages.set(key, (messages.get(key) ?? 0) + 1);
      } else if (r.failures.length < 50) {
        r.failures.push(`#${i} (${input.how}): ${why}`);
      } else r.failures.length++;
    } finally {
      clearTimeout(timer);
    }
    const ms = performance.now() - s;
    if (ms > boundMs) r.failures.push(`#${i} (${input.how}): took ${ms.toFixed(0)} ms`);
    r.maxMs = Math.max(r.maxMs, ms);
    r.inputs++;
    if (i % 64 === 0) r.maxRssMiB = Math.max(r.maxRssMiB, process.memoryUsage().rss / 2 ** 20);
  }
  r.seconds = (performance.now() - t0) / 1000;
  r.maxRssMiB = Math.max(r.maxRssMiB, process.memoryUsage().rss / 2 ** 20);
  r.topMessages = [...messages].sort((a, b) => b[1] - a[1]).slice(0, 8);
  return r;
}

/** A refusal is clear when it is of the expected class and its message starts as expected and has
 *  no JS-internal wording. */
export function clearError(cls: new (...a: never[]) => Error, prefix: RegExp): (e: unknown) => string | null {
  return (e) => {
    if (!(e instanceof cls)) return `unexpected ${(e as Error)?.name ?? typeof e}: ${String((e as Error)?.message ?? e).slice(0, 300)}`;
    const m = e.message;
    if (!prefix.test(m)) return `unclear message: ${m.slice(0, 300)}`;
    if (/\bNaN\b|\[object|Cannot read prop|is not a function|is not iterable/.test(m)) return `unclear message: ${m.slice(0, 300)}`;
    return null;
  };
}
