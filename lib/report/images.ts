// Image files in and out: PNG (pngjs) and JPEG (jpeg-js) decoded to RGBA, resized to the network's
// 32x32 by area averaging, converted to the CIFAR record layout (planar RGB uint8), and PNG encoding.
import { readFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, row-major RGBA. */
  data: Uint8Array;
}

export class ImageFileError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ImageFileError';
  }
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const MAX_PIXELS = 100_000_000;

/** Reads a PNG or JPEG file (told apart by content, not by name) as RGBA; errors name the file. */
export function readImageFile(file: string): RgbaImage {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not an image file' : (e as Error).message;
    throw new ImageFileError(file, `cannot read image: ${why}`);
  }
  return decodeImage(bytes, file);
}

export function decodeImage(bytes: Uint8Array, file = '<buffer>'): RgbaImage {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length === 0) throw new ImageFileError(file, 'the file is empty, not a PNG or JPEG image');
  if (buf.length >= 8 && buf.subarray(0, 8).equals(PNG_MAGIC)) {
    try {
      const png = PNG.sync.read(buf);
      return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
    } catch (e) {
      throw new ImageFileError(file, `not a readable PNG image (${(e as Error).message})`);
    }
  }
  if (buf.length >= 3 && buf[0] === 0xff && buf[1] === 0xd8 && buf[2] === 0xff) {
    try {
      const j = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_PIXELS / 1e6, maxMemoryUsageInMB: 2048 });
      if (!j.width || !j.height) throw new Error('no image data');
      return { width: j.width, height: j.height, data: j.data };
    } catch (e) {
      throw new ImageFileError(file, `not a readable JPEG image (${(e as Error).message})`);
    }
  }
  throw new ImageFileError(file, 'not a PNG or JPEG image (unrecognized file header)');
}

/** Area-averaging resize (each output pixel is the mean of the source area it covers), alpha composited
 *  over white; returns planar RGB uint8 [3, h, w] like a CIFAR-10 record. */
export function toPlanarRgb(img: RgbaImage, width = 32, height = 32): Uint8Array {
  const out = new Uint8Array(3 * width * height);
  const sx = img.width / width;
  const sy = img.height / height;
  for (let oy = 0; oy < height; oy++) {
    const y0 = oy * sy;
    const y1 = y0 + sy;
    for (let ox = 0; ox < width; ox++) {
      const x0 = ox * sx;
      const x1 = x0 + sx;
      const acc = [0, 0, 0];
      let wsum = 0;
      for (let y = Math.floor(y0); y < Math.min(img.height, Math.ceil(y1)); y++) {
        const wy = Math.min(y + 1, y1) - Math.max(y, y0);
        for (let x = Math.floor(x0); x < Math.min(img.width, Math.ceil(x1)); x++) {
          const w = wy * (Math.min(x + 1, x1) - Math.max(x, x0));
          const p = 4 * (y * img.width + x);
          const a = img.data[p + 3] / 255;
          for (let c = 0; c < 3; c++) acc[c] += w * (img.data[p + c] * a + 255 * (1 - a));
          wsum += w;
        }
      }
      for (let c = 0; c < 3; c++) out[c * width * height + oy * width + ox] = Math.round(acc[c] / wsum);
    }
  }
  return out;
}

/** Planar RGB [3, h, w] (a CIFAR-10 record's pixels) to RGBA. */
export function planarToRgba(planar: Uint8Array, width = 32, height = 32): RgbaImage {
  const n = width * height;
  const data = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) {
    data[4 * i] = planar[i];
    data[4 * i + 1] = planar[n + i];
    data[4 * i + 2] = planar[2 * n + i];
    data[4 * i + 3] = 255;
  }
  return { width, height, data };
}

export function encodePng(img: RgbaImage): Buffer {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return PNG.sync.write(png);
}

export function pngDataUri(img: RgbaImage): string {
  return `data:image/png;base64,${encodePng(img).toString('base64')}`;
}
