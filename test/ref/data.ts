// float64 reference of loadBatch, following torchvision's order on the uint8 image: Pad (zero or
// reflect) -> RandomCrop -> RandomHorizontalFlip -> ToTensor (x * scale) -> Normalize, with the crop
// offsets and flip of batch position b drawn from the RNG counters 3b, 3b+1, 3b+2; then Cutout, its centre
// drawn from the counters 2^48 + 2b and 2^48 + 2b + 1, sets a square of the normalized sample to 0.
import { rngBelow, rngUniform } from './rng.js';

export interface BatchOpts { scale: number; mean: number[]; std: number[]; cropPad: number; padMode: 'zero' | 'reflect'; flip: boolean; seed: number; cutout?: number }

const CUTOUT_COUNTERS = 2n ** 48n;

/** The Cutout square of batch position b: its top-left corner (it may lie outside the image) and side. */
export function drawCutoutRef(seed: number, b: number, size: number, H: number, W: number): { y0: number; x0: number; size: number } {
  if (size <= 0) return { y0: 0, x0: 0, size: 0 };
  const base = CUTOUT_COUNTERS + 2n * BigInt(b);
  return { y0: rngBelow(seed, base, H) - Math.floor(size / 2), x0: rngBelow(seed, base + 1n, W) - Math.floor(size / 2), size };
}

export function drawCropFlipRef(seed: number, b: number, cropPad: number, flip: boolean): { dy: number; dx: number; flip: boolean } {
  const dy = cropPad > 0 ? rngBelow(seed, 3 * b, 2 * cropPad + 1) : cropPad;
  const dx = cropPad > 0 ? rngBelow(seed, 3 * b + 1, 2 * cropPad + 1) : cropPad;
  return { dy, dx, flip: flip && rngUniform(seed, 3 * b + 2) < 0.5 };
}

/** One padded plane as a full (H + 2p) x (W + 2p) image. */
function padPlane(src: ArrayLike<number>, off: number, H: number, W: number, p: number, mode: 'zero' | 'reflect'): Float64Array {
  const PH = H + 2 * p, PW = W + 2 * p;
  const out = new Float64Array(PH * PW);
  const refl = (i: number, n: number) => (i < 0 ? -i : i >= n ? 2 * (n - 1) - i : i);
  for (let y = 0; y < PH; y++)
    for (let x = 0; x < PW; x++) {
      let sy = y - p, sx = x - p;
      const inside = sy >= 0 && sy < H && sx >= 0 && sx < W;
      if (!inside && mode === 'zero') continue;
      sy = refl(sy, H);
      sx = refl(sx, W);
      out[y * PW + x] = src[off + sy * W + sx];
    }
  return out;
}

/** With f32 = true, rounds every step to float32 the way core/augment.h does, for a bit-exact check. */
export function loadBatchRef(dataset: Uint8Array, shape: readonly number[], indices: ArrayLike<number>, o: BatchOpts, f32 = false): Float64Array {
  const r = f32 ? Math.fround : (v: number) => v;
  const [, C, H, W] = shape;
  const B = indices.length;
  const out = new Float64Array(B * C * H * W);
  const p = o.cropPad;
  for (let b = 0; b < B; b++) {
    const cf = drawCropFlipRef(o.seed, b, p, o.flip);
    const cut = drawCutoutRef(o.seed, b, o.cutout ?? 0, H, W);
    for (let c = 0; c < C; c++) {
      const padded = padPlane(dataset, (indices[b] * C + c) * H * W, H, W, p, o.padMode);
      const mean = o.mean.length ? o.mean[c] : 0, std = o.std.length ? o.std[c] : 1;
      for (let y = 0; y < H; y++)
        for (let x = 0; x < W; x++) {
          const xc = cf.flip ? W - 1 - x : x;
          const v = padded[(y + cf.dy) * (W + 2 * p) + xc + cf.dx];
          const hidden = y >= cut.y0 && y < cut.y0 + cut.size && x >= cut.x0 && x < cut.x0 + cut.size;
          out[((b * C + c) * H + y) * W + x] = hidden ? 0 : r(r(r(v * r(o.scale)) - r(mean)) / r(std));
        }
    }
  }
  return out;
}
