// Fuzz target: the image loader behind `predict` and `visualize` (lib/report/images.ts: PNG decoded row
// by row from pngjs's parts, JPEG via jpeg-js), fed seeded mutations of a small valid PNG and JPEG,
// including headers that lie about the dimensions with a correct CRC. An accepted image must be what
// the libraries' own whole-image decoders make of the file, when they read it.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { decodeImage, encodePng, ImageFileError, readImageFile, toPlanarRgb, type RgbaImage } from '../lib/report/images.js';
import { campaign, clearError, mutateMany, pick, Rng, type FuzzReport } from './fuzz-mutate.js';


const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 255] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** PNG header fields a hostile file would lie about (width, height, bit depth, colour type), CRC fixed. */
function mutatePngHeader(png: Uint8Array, rng: Rng): { bytes: Uint8Array; how: string } {
  const b = Uint8Array.from(png);
  const dv = new DataView(b.buffer);
  // IHDR data starts at 16: width(4) height(4) depth(1) colour(1) compression(1) filter(1) interlace(1)
  const field = rng.nextInt(4);
  let how: string;
  if (field < 2) {
    const v = pick(rng, [0, 1, 65535, 100_000, 2 ** 31 - 1, 2 ** 32 - 1, 46341]);
    dv.setUint32(16 + 4 * field, v >>> 0);
    how = `${field ? 'height' : 'width'} ${v}`;
  } else {
    const at = 24 + rng.nextInt(5);
    b[at] = pick(rng, [0, 1, 2, 3, 4, 6, 7, 8, 16, 255]);
    how = `IHDR byte ${at - 16} = ${b[at]}`;
  }
  dv.setUint32(29, crc32(b.subarray(12, 29)));
  return { bytes: b, how: `png ${how}` };
}

/** JPEG frame dimensions (SOF0) made huge or zero. */
function mutateJpegHeader(jpg: Uint8Array, rng: Rng): { bytes: Uint8Array; how: string } {
  const b = Uint8Array.from(jpg);
  for (let i = 2; i + 9 < b.length; i++) {
    if (b[i] === 0xff && (b[i + 1] === 0xc0 || b[i + 1] === 0xc2)) {
      const dv = new DataView(b.buffer);
      const h = pick(rng, [0, 1, 65535, 30000, 8]);
      const w = pick(rng, [0, 1, 65535, 30000, 8]);
      dv.setUint16(i + 5, h);
      dv.setUint16(i + 7, w);
      return { bytes: b, how: `jpeg ${w}x${h}` };
    }
  }
  return { bytes: b, how: 'jpeg (no SOF found)' };
}

/** The file as pngjs's or jpeg-js's own decoder reads it, or undefined when it refuses it. */
function wholeImage(bytes: Uint8Array, isPng: boolean): RgbaImage | undefined {
  try {
    const img = isPng ? PNG.sync.read(Buffer.from(bytes)) : jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
    return img.width && img.height ? img : undefined;
  } catch {
    return undefined;
  }
}

export async function fuzzImageLoader(count: number, seed: number, tmp: string): Promise<FuzzReport> {
  const rng = new Rng(seed);
  const w = 7;
  const h = 5;
  const rgba = new Uint8Array(w * h * 4).map((_, i) => (i % 4 === 3 ? 200 : (i * 37) & 255));
  const png = new Uint8Array(encodePng({ width: w, height: h, data: rgba }));
  const jpg = new Uint8Array(jpeg.encode({ width: w, height: h, data: Buffer.from(rgba) }, 80).data);
  const file = join(tmp, 'fuzz-image');
  return campaign('image loader', count, 3000, async () => {
    const base = rng.nextInt(2) ? png : jpg;
    const k = rng.nextInt(5);
    const m = k === 0 ? (base === png ? mutatePngHeader(base, rng) : mutateJpegHeader(base, rng)) : mutateMany(base, rng);
    const viaFile = rng.nextInt(4) === 0;
    return {
      how: `${base === png ? 'png' : 'jpeg'}: ${m.how}${viaFile ? ' (file)' : ''}`,
      run: () => {
        if (viaFile) writeFileSync(file, m.bytes);
        const img = viaFile ? readImageFile(file) : decodeImage(m.bytes, 'fuzz-image');
        if (!(img.width > 0 && img.height > 0) || img.pixels.length !== 3 * 32 * 32) {
          throw new Error(`CHECK: ${img.width}x${img.height} image with ${img.pixels.length} bytes of pixels`);
        }
        const whole = wholeImage(m.bytes, base === png);
        if (whole && (whole.width !== img.width || whole.height !== img.height || Buffer.compare(toPlanarRgb(whole), img.pixels) !== 0)) {
          throw new Error(`CHECK: ${img.width}x${img.height} decoded row by row differs from the whole-image decoder's ${whole.width}x${whole.height}`);
        }
        return 'accepted';
      },
    };
  }, clearError(ImageFileError, /^\S*fuzz-image: \S/));
}
