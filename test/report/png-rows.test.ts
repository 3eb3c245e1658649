// PNG decoded row by row and resized as the rows come: the same pixels as pngjs's own whole-image
// decoder for every colour type, bit depth, transparency and interlacing; the area-averaging resize
// against a float64 reference; files whose header lies, whose data is cut short or damaged refused with
// a message saying which. (Big images and the pixel limit: image-limits.test.ts.)
import { describe, expect, it } from 'vitest';
import { PNG } from 'pngjs';
import { deflateSync } from 'node:zlib';
import { decodeImage, ImageFileError, toPlanarRgb } from '../../lib/report/images.js';
import { BoxResize } from '../../lib/report/box-resize.js';
import { encodePngSamples, pngChunk, pngFile, type PngHeader } from './image-files.js';

/** Sample values with structure at every position (so misplaced rows or pixels show). */
const wave = (x: number, y: number, c: number, max: number) => (x * 7 + y * 13 + c * 101 + ((x * y) >> 2)) % (max + 1);

/** Our decode, and the one made from pngjs's whole-image decode, of the same file. */
function both(file: Buffer): { ours: Uint8Array; theirs: Uint8Array; width: number; height: number } {
  const img = decodeImage(file, 'case.png');
  const whole = PNG.sync.read(file);
  expect([img.width, img.height]).toEqual([whole.width, whole.height]);
  return { ours: img.pixels, theirs: toPlanarRgb(whole), width: img.width, height: img.height };
}

const maxDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('PNG decoded row by row', () => {
  // Colour type: the bit depths it allows, and transparency chunks to try with it.
  const kinds: Array<{ colorType: number; depths: number[] }> = [
    { colorType: 0, depths: [1, 2, 4, 8, 16] },
    { colorType: 2, depths: [8, 16] },
    { colorType: 3, depths: [1, 2, 4, 8] },
    { colorType: 4, depths: [8, 16] },
    { colorType: 6, depths: [8, 16] },
  ];
  const cases: Array<[string, PngHeader, Buffer[]]> = [];
  for (const { colorType, depths } of kinds) {
    for (const depth of depths) {
      for (const interlace of [0, 1] as const) {
        for (const [width, height] of [[64, 96], [37, 23], [1, 1], [3, 70]]) {
          const h = { width, height, depth, colorType, interlace };
          const max = 2 ** depth - 1;
          const before: Buffer[] = [];
          if (colorType === 3) {
            const n = Math.min(256, 2 ** depth);
            before.push(pngChunk('PLTE', Uint8Array.from({ length: 3 * n }, (_, i) => (i * 53) & 255)));
            before.push(pngChunk('tRNS', Uint8Array.from({ length: Math.ceil(n / 2) }, (_, i) => (i * 97) & 255)));
          } else if (colorType === 0 || colorType === 2) {
            // one grey level or colour transparent (tRNS holds 16-bit samples)
            const t = Buffer.alloc(colorType ? 6 : 2);
            for (let c = 0; c < t.length / 2; c++) t.writeUInt16BE(wave(2, 1, c, max), 2 * c);
            before.push(pngChunk('tRNS', t));
          }
          cases.push([`type ${colorType}, ${depth}-bit, ${width}x${height}${interlace ? ', interlaced' : ''}`, h, before]);
        }
      }
    }
  }

  it(`gives pngjs's pixels for every colour type, bit depth, transparency and interlacing (${cases.length} files)`, () => {
    for (const [name, h, before] of cases) {
      const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[h.colorType!]!;
      const file = encodePngSamples(h, (x, y) => Array.from({ length: channels }, (_, c) => wave(x, y, c, 2 ** h.depth! - 1)), before);
      const r = both(file);
      // Whole multiples of 32 average whole pixels: exact. Otherwise the sums of fractional weights are
      // added in another order (pass by pass when interlaced) and may round the other way.
      if (h.width % 32 === 0 && h.height % 32 === 0) expect(Buffer.compare(r.ours, r.theirs), name).toBe(0);
      else expect(maxDiff(r.ours, r.theirs), name).toBeLessThanOrEqual(1);
    }
  });

  it('resizes by area averaging: a float64 reference for fractional ratios, up and down, with alpha over white', () => {
    for (const [w, h] of [[45, 37], [20, 7], [100, 33], [32, 32]]) {
      const rgba = Uint8Array.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 ? (i * 29) & 255 : (i * 71 + (i >> 7)) & 255));
      const ref = new Uint8Array(3072);
      for (let oy = 0; oy < 32; oy++) {
        for (let ox = 0; ox < 32; ox++) {
          const [x0, x1, y0, y1] = [(ox * w) / 32, ((ox + 1) * w) / 32, (oy * h) / 32, ((oy + 1) * h) / 32];
          const acc = [0, 0, 0];
          let area = 0;
          for (let y = 0; y < h; y++) {
            for (let x = 0; x < w; x++) {
              const wt = Math.max(0, Math.min(x + 1, x1) - Math.max(x, x0)) * Math.max(0, Math.min(y + 1, y1) - Math.max(y, y0));
              const a = rgba[4 * (y * w + x) + 3] / 255;
              for (let c = 0; c < 3; c++) acc[c] += wt * (rgba[4 * (y * w + x) + c] * a + 255 * (1 - a));
              area += wt;
            }
          }
          for (let c = 0; c < 3; c++) ref[c * 1024 + oy * 32 + ox] = Math.round(acc[c] / area);
        }
      }
      expect(maxDiff(toPlanarRgb({ width: w, height: h, data: rgba }), ref), `${w}x${h}`).toBeLessThanOrEqual(1);
      // Rows in any order, and a row given in two interleaved halves, add up to the same.
      const r = new BoxResize(w, h);
      for (let y = h - 1; y >= 0; y--) {
        const row = rgba.subarray(4 * y * w, 4 * (y + 1) * w);
        const even = row.filter((_, i) => (i >> 2) % 2 === 0);
        const odd = row.filter((_, i) => (i >> 2) % 2 === 1);
        r.addRow(y, even, 4, 0, 2, even.length / 4);
        r.addRow(y, odd, 4, 1, 2, odd.length / 4);
      }
      expect(maxDiff(r.planar(), ref), `${w}x${h} in pieces`).toBeLessThanOrEqual(1);
    }
  });

  describe('files that lie or are damaged', () => {
    const rows = (width: number, n: number) => Buffer.concat(Array.from({ length: n }, (_, y) => Buffer.from([0, ...Array.from({ length: width }, (_, x) => wave(x, y, 0, 255))])));
    const withIhdr = (file: Buffer, width: number, height: number) => {
      const b = Buffer.from(file);
      b.writeUInt32BE(width, 16);
      b.writeUInt32BE(height, 20);
      return Buffer.concat([b.subarray(0, 8), pngChunk('IHDR', b.subarray(16, 29)), b.subarray(33)]);
    };
    const good = pngFile({ width: 7, height: 5 }, deflateSync(rows(7, 5)));
    const refuse = (file: Buffer, msg: RegExp) => {
      expect(() => decodeImage(file, 'bad.png')).toThrow(ImageFileError);
      expect(() => decodeImage(file, 'bad.png')).toThrow(msg);
    };

    it('the valid file they are made from decodes', () => {
      expect(decodeImage(good, 'good.png').width).toBe(7);
    });

    it('a header claiming more rows, or fewer, than the data holds', () => {
      refuse(withIhdr(good, 7, 50), /^bad\.png: not a readable PNG image \(the image data ends after 5 of the 50 rows its 7x50 header claims\)$/);
      refuse(withIhdr(good, 7, 2), /^bad\.png: not a readable PNG image \(more image data than its 7x2 header claims\)$/);
      refuse(withIhdr(good, 9, 5), /^bad\.png: not a readable PNG image \(/);
      refuse(withIhdr(good, 0, 5), /^bad\.png: the header gives a 0x5 image \(no pixels\)$/);
    });

    it('a stream cut short, damaged compressed data, a bad checksum, no image data, bytes after the end', () => {
      const idatEnd = good.length - 12;
      refuse(good.subarray(0, idatEnd - 10), /^bad\.png: not a readable PNG image \(the file is cut short: it ends inside a chunk or before IEND\)$/);
      refuse(good.subarray(0, 30), /^bad\.png: not a readable PNG image \(the file is cut short/);
      // the zlib data cut in its middle, the chunk itself whole and its CRC right
      refuse(pngFile({ width: 7, height: 5 }, deflateSync(rows(7, 5)).subarray(0, 12)), /^bad\.png: not a readable PNG image \(.*(end of file|the image data ends)/);
      const flipped = Buffer.from(good);
      flipped[45] ^= 0x40;
      refuse(flipped, /^bad\.png: not a readable PNG image \(a chunk fails its CRC check: the file is damaged\)$/);
      refuse(pngFile({ width: 7, height: 5 }, Buffer.from('not zlib data at all')), /^bad\.png: not a readable PNG image \(.*(header check|invalid)/i);
      refuse(Buffer.concat([good.subarray(0, 33), good.subarray(good.length - 12)]), /^bad\.png: not a readable PNG image \(no image data \(no IDAT chunk\)\)$/);
      refuse(Buffer.concat([good, Buffer.from('trailing')]), /^bad\.png: not a readable PNG image \(bytes after the end chunk, IEND\)$/);
    });

    it('a damaged zlib checksum is refused, small image or large (whose rows all came before the checksum)', () => {
      for (const [w, h] of [[7, 5], [300, 300]]) {
        const z = deflateSync(rows(w, h));
        z[z.length - 1] ^= 0xff;
        refuse(pngFile({ width: w, height: h }, z), /^bad\.png: not a readable PNG image \(zlib: incorrect data check\)$/);
      }
    });

    it('bytes after the end of the zlib stream are ignored, as zlib, pngjs and libpng ignore them', () => {
      const r = both(pngFile({ width: 7, height: 5 }, Buffer.concat([deflateSync(rows(7, 5)), Buffer.from([1, 2, 3])])));
      expect(Buffer.compare(r.ours, r.theirs)).toBe(0);
      expect(Buffer.compare(r.ours, decodeImage(good).pixels)).toBe(0);
    });
  });
});
