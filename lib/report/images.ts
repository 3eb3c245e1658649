// Image files in and out: PNG and JPEG files read into the network's input (planar RGB uint8 [3, 32, 32],
// the CIFAR-10 record layout) by an area-averaging resize, and PNG encoding. A file's pixel count is
// read from its header and checked against a limit before anything is decoded (image-header.ts); PNG
// rows are resized as they are decoded (png-rows.ts), JPEG through jpeg-js with limits derived from it.
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { BoxResize } from './box-resize.js';
import { checkImageSize, fmt, ImageFileError, ImageTooLargeError, pixelLimit, readImageHeader, type ByteReader } from './image-header.js';
import { decodePngRows } from './png-rows.js';

export { DEFAULT_MAX_PIXELS, ImageFileError, ImageTooLargeError, pixelLimit } from './image-header.js';

export interface RgbaImage {
  width: number;
  height: number;
  /** width * height * 4 bytes, row-major RGBA. */
  data: Uint8Array;
}

export interface ImageLoadOptions {
  /** Refuse images with more pixels than this, as their header gives (default DEFAULT_MAX_PIXELS;
   *  Infinity: no limit). */
  maxPixels?: number;
}

/** An image file as the network sees it. */
export interface NetworkImage {
  /** The file's own size. */
  width: number;
  height: number;
  /** Resized to 32x32: planar RGB uint8 [3, 32, 32], like a CIFAR-10 record. */
  pixels: Uint8Array;
}

/** Reads a PNG or JPEG file (told apart by content, not by name); errors name the file. The header is
 *  read and checked first, so an image over the limit costs a few bytes of reading. */
export function readImageFile(file: string, o: ImageLoadOptions = {}): NetworkImage {
  const maxPixels = pixelLimit(o.maxPixels);
  let bytes: Buffer;
  try {
    const fd = openSync(file, 'r');
    try {
      const read: ByteReader = (offset, length) => {
        const b = Buffer.alloc(length);
        return b.subarray(0, readSync(fd, b, 0, length, offset));
      };
      const header = readImageHeader(read, file);
      if (header.size) checkImageSize(header.size, file, maxPixels);
      bytes = readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    if (e instanceof ImageFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not an image file' : (e as Error).message;
    throw new ImageFileError(file, `cannot read image: ${why}`);
  }
  return decodeImage(bytes, file, { maxPixels });
}

/** An image file's bytes as the network sees them; `file` names it in errors. */
export function decodeImage(bytes: Uint8Array, file = '<buffer>', o: ImageLoadOptions = {}): NetworkImage {
  const maxPixels = pixelLimit(o.maxPixels);
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = readImageHeader((offset, length) => buf.subarray(offset, offset + length), file);
  if (header.size) checkImageSize(header.size, file, maxPixels);
  return header.format === 'png' ? decodePng(buf, file, maxPixels) : decodeJpeg(buf, file, maxPixels);
}

function decodePng(buf: Buffer, file: string, maxPixels: number): NetworkImage {
  let resize: BoxResize | undefined;
  try {
    decodePngRows(buf, (width, height) => {
      checkImageSize({ width, height }, file, maxPixels);
      const r = (resize = new BoxResize(width, height));
      return (y, rgba, x0, dx, count) => r.addRow(y, rgba, 4, x0, dx, count);
    });
  } catch (e) {
    if (e instanceof ImageFileError) throw e;
    throw new ImageFileError(file, `not a readable PNG image (${(e as Error).message})`);
  }
  return { width: resize!.srcWidth, height: resize!.srcHeight, pixels: resize!.planar() };
}

/** What jpeg-js allocates per pixel at most for a frame it can convert (4 components at full
 *  resolution): 256-byte coefficient blocks per 64 samples, a sample plane and the interleaved copy per
 *  component, and the RGB result. */
const JPEG_BYTES_PER_PIXEL = 4 * (4 + 1 + 1) + 3;

function decodeJpeg(buf: Buffer, file: string, maxPixels: number): NetworkImage {
  const maxMemoryUsageInMB = Math.ceil((JPEG_BYTES_PER_PIXEL * maxPixels) / 2 ** 20) + 64;
  let j: { width: number; height: number; data: Uint8Array };
  try {
    // RGB, not RGBA: a JPEG has no alpha, and a quarter less to hold.
    j = jpeg.decode(buf, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: maxPixels / 1e6, maxMemoryUsageInMB });
    if (!j.width || !j.height) throw new Error('no image data');
  } catch (e) {
    const m = (e as Error).message;
    // Only a frame header past the one checked above, or a frame whose layout costs more than its pixel
    // count says (many components, padding), gets this far.
    if (/maxResolutionInMP/.test(m)) throw new ImageTooLargeError(file, maxPixels, 'a frame header inside the JPEG data claims a larger image');
    if (/maxMemoryUsageInMB/.test(m)) throw new ImageTooLargeError(file, maxPixels, `decoding this JPEG needs more than ${fmt(maxMemoryUsageInMB)} MB`);
    // jpeg-js fails on some damaged files with its own TypeErrors ("Cannot read properties of undefined"): say what it means
    throw new ImageFileError(file, `not a readable JPEG image (${e instanceof TypeError ? 'damaged or truncated JPEG data' : m})`);
  }
  const r = new BoxResize(j.width, j.height);
  for (let y = 0; y < j.height; y++) r.addRow(y, j.data.subarray(3 * y * j.width, 3 * (y + 1) * j.width), 3);
  return { width: j.width, height: j.height, pixels: r.planar() };
}

/** An RGBA image already in memory, resized to planar RGB [3, h, w] like a CIFAR-10 record. */
export function toPlanarRgb(img: RgbaImage, width = 32, height = 32): Uint8Array {
  const r = new BoxResize(img.width, img.height, width, height);
  for (let y = 0; y < img.height; y++) r.addRow(y, img.data.subarray(4 * y * img.width, 4 * (y + 1) * img.width));
  return r.planar();
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
