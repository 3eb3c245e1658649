// Feature maps: the data against a float64 reference of the first conv + ReLU and pool, and the PNG:
// its size, every tile drawn and distinct, the same seed giving the same bytes.
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { native } from '../../lib/backend.js';
import { vgg } from '../../lib/models/vgg.js';
import { initialize } from '../../lib/nn/init.js';
import { saveCheckpoint } from '../../lib/nn/checkpoint.js';
import { visualize } from '../../lib/report/visualize.js';
import { encodePng, planarToRgba, readImageFile, toPlanarRgb } from '../../lib/report/images.js';
import { expectClose } from '../helpers/check.js';
import { tempDir } from '../data/fixtures.js';
import { upscale } from '../helpers/images.js';

const dir = tempDir('maps');
const model = vgg({ depth: 11, widthDivisor: 8 });
initialize(model, { scheme: 'kaiming_uniform', seed: 11 });
const ckpt = join(dir, 'tiny.safetensors');
saveCheckpoint(ckpt, { model });
const weights = new Map(model.parameters().map((p) => [p.name, Float64Array.from(native.toArray(p.value) as Float32Array)]));

/** A 32x32 picture with structure at every scale: gradients, a disc, stripes. */
function picture(): Uint8Array {
  const px = new Uint8Array(3072);
  for (let y = 0; y < 32; y++) {
    for (let x = 0; x < 32; x++) {
      const disc = (x - 20) ** 2 + (y - 12) ** 2 < 40 ? 120 : 0;
      px[y * 32 + x] = Math.min(255, x * 7 + disc);
      px[1024 + y * 32 + x] = Math.min(255, y * 7 + ((x >> 2) % 2) * 60);
      px[2048 + y * 32 + x] = Math.min(255, ((x + y) * 5) % 256);
    }
  }
  return px;
}

const pixels = picture();
const imageFile = join(dir, 'picture.png');
writeFileSync(imageFile, encodePng(upscale(planarToRgba(pixels), 3)));

describe('feature maps', () => {
  it('resizing by area averaging undoes an integer upscale exactly', () => {
    expect(Array.from(readImageFile(imageFile).pixels)).toEqual(Array.from(pixels));
  });

  it('gives the first conv + ReLU and its pool as a float64 reference computes them', async () => {
    const v = await visualize({ checkpoint: ckpt, image: imageFile, backend: 'cpu', channels: 5, seed: 2 });
    const [conv, pool] = v.maps.layers;
    expect(conv.name).toBe('net.0');
    expect(conv.label).toBe('Conv2d 3→8 3x3 + ReLU');
    expect(conv.shape).toEqual([1, 8, 32, 32]);
    expect(pool.label).toBe('MaxPool2d 2x2');
    expect(pool.shape).toEqual([1, 8, 16, 16]);
    expect(conv.channels).toHaveLength(5);
    const w = weights.get('net.0.weight')!;
    const b = weights.get('net.0.bias')!;
    const x = Float64Array.from(pixels, (p) => p / 255);
    conv.channels!.forEach((o, t) => {
      const ref = new Float64Array(1024);
      for (let y = 0; y < 32; y++) {
        for (let xx = 0; xx < 32; xx++) {
          let s = b[o];
          for (let c = 0; c < 3; c++) {
            for (let ky = 0; ky < 3; ky++) {
              for (let kx = 0; kx < 3; kx++) {
                const iy = y + ky - 1;
                const ix = xx + kx - 1;
                if (iy >= 0 && iy < 32 && ix >= 0 && ix < 32) s += w[((o * 3 + c) * 3 + ky) * 3 + kx] * x[c * 1024 + iy * 32 + ix];
              }
            }
          }
          ref[y * 32 + xx] = Math.max(0, s);
        }
      }
      expectClose(conv.maps![t], ref, 1e-4, `net.0 channel ${o}`);
      const pooled = new Float64Array(256);
      for (let y = 0; y < 16; y++) for (let xx = 0; xx < 16; xx++) {
        pooled[y * 16 + xx] = Math.max(ref[2 * y * 32 + 2 * xx], ref[2 * y * 32 + 2 * xx + 1], ref[(2 * y + 1) * 32 + 2 * xx], ref[(2 * y + 1) * 32 + 2 * xx + 1]);
      }
      if (pool.channels!.includes(o)) expectClose(pool.maps![pool.channels!.indexOf(o)], pooled, 1e-4, `net.2 channel ${o}`);
    });
    const p = v.maps.probabilities;
    expect(p).toHaveLength(10);
    expect(p.reduce((a, c) => a + c, 0)).toBeCloseTo(1, 6);
    expect(v.maps.predicted).toBe(p.indexOf(Math.max(...p)));
    const logits = v.maps.layers.at(-1)!;
    expect(logits.shape).toEqual([1, 10]);
    const e = Array.from(logits.values!, (l) => Math.exp(l - Math.max(...logits.values!)));
    expectClose(p, e.map((v2) => v2 / e.reduce((a, c) => a + c, 0)), 1e-6, 'softmax of the logits');
  });

  it('draws one PNG: its size, every tile visible and distinct, same seed same bytes, another seed other channels', async () => {
    const out = join(dir, 'maps.png');
    const a = await visualize({ checkpoint: ckpt, image: imageFile, out, backend: 'cpu', seed: 7 });
    const b = await visualize({ checkpoint: ckpt, image: imageFile, backend: 'cpu', seed: 7 });
    const c = await visualize({ checkpoint: ckpt, image: imageFile, backend: 'cpu', seed: 8 });
    expect(a.picture.labelled).toBe(true);
    expect(Buffer.compare(a.picture.png, b.picture.png)).toBe(0);
    expect(Buffer.compare(a.picture.png, c.picture.png)).not.toBe(0);
    expect(a.maps.layers.map((l) => l.channels?.join())).not.toEqual(c.maps.layers.map((l) => l.channels?.join()));

    // vgg11: 8 convolutions (ReLU fused) and 5 pools, then three Linear layers.
    const spatial = a.maps.layers.filter((l) => l.maps);
    expect(spatial.map((l) => l.label.split(' ')[0])).toEqual(['Conv2d', 'MaxPool2d', 'Conv2d', 'MaxPool2d', 'Conv2d', 'Conv2d', 'MaxPool2d',
      'Conv2d', 'Conv2d', 'MaxPool2d', 'Conv2d', 'Conv2d', 'MaxPool2d']);
    expect(a.maps.layers.filter((l) => l.values).map((l) => l.shape)).toEqual([[1, 100], [1, 100], [1, 10]]);
    expect(spatial.map((l) => l.channels!.length)).toEqual(spatial.map((l) => Math.min(10, l.shape[1])));

    const png = PNG.sync.read(a.picture.png);
    expect([png.width, png.height]).toEqual([a.picture.width, a.picture.height]);
    expect(png.width).toBeGreaterThanOrEqual(10 * 64);
    expect(png.height).toBeGreaterThan(spatial.length * 64);
    const tiles = a.picture.tiles;
    expect(tiles).toHaveLength(spatial.reduce((s, l) => s + l.channels!.length, 0));
    const crop = (t: (typeof tiles)[number]) => {
      const buf = Buffer.alloc(t.size * t.size * 4);
      for (let y = 0; y < t.size; y++) png.data.copy(buf, y * t.size * 4, 4 * ((t.y + y) * png.width + t.x), 4 * ((t.y + y) * png.width + t.x + t.size));
      return buf;
    };
    const crops = tiles.map(crop);
    const maps = spatial.flatMap((l) => l.maps!);
    const distinct = (m: Float32Array) => new Set(m).size;
    crops.forEach((px, i) => {
      const colours = new Set<number>();
      let white = 0;
      for (let p = 0; p < px.length; p += 4) {
        colours.add(px.readUInt32BE(p));
        if (px[p] === 255 && px[p + 1] === 255 && px[p + 2] === 255) white++;
      }
      expect(white, `tile ${tiles[i].layer} ch ${tiles[i].channel} is blank`).toBeLessThan(px.length / 4);
      // A map with several values is drawn with several colours (scaled to be visible).
      if (distinct(maps[i]) > 1) expect(colours.size, `tile ${tiles[i].layer} ch ${tiles[i].channel}`).toBeGreaterThan(1);
    });
    // Tiles differ exactly when the maps, each scaled to its own range, differ (sparse ReLU maps of a
    // random network can coincide: a single bright pixel at the same place).
    const sizes = spatial.flatMap((l) => l.maps!.map(() => l.shape[2]));
    const key = (m: Float32Array, i: number) => {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of m) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      return `${sizes[i]}:${Array.from(m, (v) => Math.round((255 * (v - lo)) / (hi - lo))).join(',')}`;
    };
    let compared = 0;
    let different = 0;
    for (let i = 0; i < crops.length; i++) {
      for (let j = i + 1; j < crops.length; j++) {
        if (distinct(maps[i]) < 2 || distinct(maps[j]) < 2) continue;
        compared++;
        const same = key(maps[i], i) === key(maps[j], j);
        if (!same) different++;
        expect(crops[i].equals(crops[j]), `tiles ${tiles[i].layer}/${tiles[i].channel} and ${tiles[j].layer}/${tiles[j].channel}`).toBe(same);
      }
    }
    expect(compared).toBeGreaterThan(100);
    expect(different).toBeGreaterThan(0.95 * compared);
  });

  it('refuses bad requests with plain messages', async () => {
    await expect(visualize({ checkpoint: ckpt, backend: 'cpu' })).rejects.toThrow(/either image or testIndex/);
    await expect(visualize({ checkpoint: ckpt, image: join(dir, 'nope.png') })).rejects.toThrow(/nope\.png: cannot read image: no such file/);
    await expect(visualize({ checkpoint: ckpt, image: imageFile, channels: 0 })).rejects.toThrow(/channels must be a positive integer/);
  });
});
