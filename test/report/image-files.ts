// PNG and JPEG files made in the tests, chunk by chunk, so that headers can lie and image data can be
// built from repeated pieces: decompression bombs claiming any size from a few KB of zlib data, and big
// images whose content is known (a 32x32 picture upscaled by whole factors, which an area-averaging
// resize gives back exactly).
import { constants, crc32, deflateRawSync, deflateSync } from 'node:zlib';
import jpeg from 'jpeg-js';

export function pngChunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(data, crc32(head.subarray(4))));
  return Buffer.concat([head, data, crc]);
}

export interface PngHeader { width: number; height: number; depth?: number; colorType?: number; interlace?: 0 | 1 }

/** A PNG: IHDR, the chunks in `before` (PLTE, tRNS…), one IDAT holding `zlib`, IEND. */
export function pngFile(h: PngHeader, zlib: Uint8Array, before: Buffer[] = []): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(h.width, 0);
  ihdr.writeUInt32BE(h.height, 4);
  ihdr.set([h.depth ?? 8, h.colorType ?? 0, 0, 0, h.interlace ?? 0], 8);
  const magic = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([magic, pngChunk('IHDR', ihdr), ...before, pngChunk('IDAT', zlib), pngChunk('IEND', new Uint8Array(0))]);
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7 passes: x0, dx, y0, dy. */
const ADAM7 = [[0, 8, 0, 8], [4, 8, 0, 8], [0, 4, 4, 8], [2, 4, 0, 4], [0, 2, 2, 4], [1, 2, 0, 2], [0, 1, 1, 2]];

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** One row filtered with `type` (0 None, 1 Sub, 2 Up, 3 Average, 4 Paeth) against the row above. */
function filterRow(type: number, row: Uint8Array, prev: Uint8Array | null, bpp: number): Uint8Array {
  const out = new Uint8Array(1 + row.length);
  out[0] = type;
  for (let i = 0; i < row.length; i++) {
    const a = i >= bpp ? row[i - bpp] : 0;
    const b = prev ? prev[i] : 0;
    const c = prev && i >= bpp ? prev[i - bpp] : 0;
    const pred = [0, a, b, (a + b) >> 1, paeth(a, b, c)][type];
    out[1 + i] = (row[i] - pred) & 255;
  }
  return out;
}

/** Any PNG the format allows, from the sample values (at the file's bit depth) of each pixel: bit
 *  depths 1-16, every colour type, Adam7 interlacing; rows cycle through the five filter types. */
export function encodePngSamples(h: PngHeader, sample: (x: number, y: number) => number[], before: Buffer[] = []): Buffer {
  const depth = h.depth ?? 8;
  const channels = CHANNELS[h.colorType ?? 0];
  const bpp = Math.max(1, (channels * depth) / 8);
  const raw: Uint8Array[] = [];
  for (const [x0, dx, y0, dy] of h.interlace ? ADAM7 : [[0, 1, 0, 1]]) {
    const pw = Math.ceil((h.width - x0) / dx);
    const ph = Math.ceil((h.height - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    let prev: Uint8Array | null = null;
    for (let r = 0; r < ph; r++) {
      const row = new Uint8Array(Math.ceil((pw * channels * depth) / 8));
      let bit = 0;
      for (let i = 0; i < pw; i++) {
        for (const v of sample(x0 + i * dx, y0 + r * dy)) {
          if (depth === 16) row.set([v >> 8, v & 255], bit / 8);
          else if (depth === 8) row[bit / 8] = v;
          else row[bit >> 3] |= v << (8 - depth - (bit & 7));
          bit += depth;
        }
      }
      raw.push(filterRow(r % 5, row, prev, bpp));
      prev = row;
    }
  }
  return pngFile(h, deflateSync(Buffer.concat(raw)), before);
}

const BASE = 65521;

function adler32(data: Uint8Array): number {
  let a = 1;
  let b = 0;
  for (let i = 0; i < data.length; i++) {
    a = (a + data[i]) % BASE;
    b = (b + a) % BASE;
  }
  return b * 65536 + a;
}

/** Adler-32 of A then B from theirs (zlib's adler32_combine). */
function adler32Combine(a1: number, a2: number, len2: number): number {
  const rem = len2 % BASE;
  const lo1 = a1 % 65536;
  const hi1 = Math.floor(a1 / 65536);
  const lo = (lo1 + (a2 % 65536) + BASE - 1) % BASE;
  const hi = ((rem * lo1) % BASE + hi1 + Math.floor(a2 / 65536) + BASE - rem) % BASE;
  return hi * 65536 + lo;
}

/** A zlib stream built from pieces of raw data, each deflated on its own and flushed to a byte
 *  boundary, so pieces concatenate into one valid stream and a repeated piece is deflated once. */
export class ZlibBuilder {
  private readonly parts: Buffer[] = [Buffer.from([0x78, 0x01])];
  private adler = 1;
  length = 0;

  add(raw: Uint8Array, times = 1): this {
    const z = deflateRawSync(raw, { level: 9, finishFlush: constants.Z_SYNC_FLUSH });
    const a = adler32(raw);
    for (let i = 0; i < times; i++) {
      this.parts.push(z);
      this.adler = adler32Combine(this.adler, a, raw.length);
      this.length += raw.length;
    }
    return this;
  }

  /** The stream: the pieces, an empty final block and the checksum. */
  end(): Buffer {
    const check = Buffer.alloc(4);
    check.writeUInt32BE(this.adler);
    return Buffer.concat([...this.parts, deflateRawSync(Buffer.alloc(0)), check]);
  }
}

/** `n` zero bytes as zlib data: 1 MiB deflated once (about 1 KB) and repeated. */
export function zeroZlib(n: number): Buffer {
  const unit = 2 ** 20;
  const z = new ZlibBuilder().add(Buffer.alloc(unit), Math.floor(n / unit));
  if (n % unit) z.add(Buffer.alloc(n % unit));
  return z.end();
}

/** A black 8-bit greyscale PNG of any claimed size whose IDAT is about size/1000 bytes. */
export function pngBomb(width: number, height: number): Buffer {
  return pngFile({ width, height }, zeroZlib(height * (width + 1)));
}

/** `picture` (planar RGB [3, 32, 32]) upscaled by fx across and fy down as an 8-bit RGB PNG: per band
 *  of fy rows, one row filtered with Sub (zero but where the colour changes) and fy - 1 rows filtered
 *  with Up (all zero), each deflated once. */
export function upscaledPng(picture: Uint8Array, fx: number, fy: number): Buffer {
  const width = 32 * fx;
  const z = new ZlibBuilder();
  const up = Buffer.alloc(1 + 3 * width);
  up[0] = 2;
  for (let oy = 0; oy < 32; oy++) {
    const row = Buffer.alloc(1 + 3 * width);
    row[0] = 1;
    for (let ox = 0; ox < 32; ox++) {
      for (let c = 0; c < 3; c++) {
        const v = picture[c * 1024 + oy * 32 + ox];
        const left = ox ? picture[c * 1024 + oy * 32 + ox - 1] : 0;
        row[1 + 3 * ox * fx + c] = (v - left) & 255;
      }
    }
    z.add(row).add(up, fy - 1);
  }
  return pngFile({ width, height: 32 * fy, colorType: 2 }, z.end());
}

/** A small valid JPEG whose frame header (SOF0) is made to claim width x height. */
export function jpegClaiming(width: number, height: number): Buffer {
  const rgba = Buffer.alloc(16 * 16 * 4, 200);
  const b = Buffer.from(jpeg.encode({ width: 16, height: 16, data: rgba }, 90).data);
  const sof = b.indexOf(Buffer.from([0xff, 0xc0]));
  b.writeUInt16BE(height, sof + 5);
  b.writeUInt16BE(width, sof + 7);
  return b;
}
