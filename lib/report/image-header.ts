// What an image file says about itself before any pixel is decoded: its format (by content, not by
// name) and its size in pixels from the PNG IHDR or the JPEG frame header (SOFn), read through a
// byte reader so that a file is refused after reading a few bytes of it. The pixel limit guards
// predict() and visualize() against decompression bombs: a few hundred KB of zlib data can claim
// gigapixels, and decoding them costs gigabytes and tens of seconds.

export class ImageFileError extends Error {
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'ImageFileError';
  }
}

/** A 32x32 classifier gains nothing from more; a 48-megapixel phone photo needs the limit raised. */
export const DEFAULT_MAX_PIXELS = 40_000_000;

/** An image refused for its size: `claim` says what it asks for (its size, when the header gives it). */
export class ImageTooLargeError extends ImageFileError {
  constructor(file: string, readonly maxPixels: number, claim: string, readonly size?: { width: number; height: number }) {
    super(file, `${claim}, more than the limit of ${fmt(maxPixels)} pixels allows; refused before decoding (a guard against ` +
      'decompression bombs). If you trust this file, raise the limit: maxPixels in predict()/visualize(), --max-pixels on the command line');
    this.name = 'ImageTooLargeError';
  }
}

/** 625000000 -> '625,000,000' (without toLocaleString, whose first call loads ICU data: ~50 ms). */
export const fmt = (n: number) => String(n).replace(/\B(?=(\d{3})+$)/g, ',');

/** `maxPixels` as given (a positive integer, or Infinity for no limit), or the default. */
export function pixelLimit(maxPixels: number | undefined): number {
  if (maxPixels === undefined) return DEFAULT_MAX_PIXELS;
  if (maxPixels !== Infinity && !(Number.isSafeInteger(maxPixels) && maxPixels > 0)) {
    throw new RangeError(`maxPixels must be a positive integer (or Infinity for no limit), got ${maxPixels}`);
  }
  return maxPixels;
}

/** Bytes [offset, offset + length) of the file, fewer at its end. */
export type ByteReader = (offset: number, length: number) => Uint8Array;

export interface ImageHeader {
  format: 'png' | 'jpeg';
  /** Absent when the header cannot be found where it belongs; the decoder then says what is wrong. */
  size?: { width: number; height: number };
}

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const IHDR = [0x49, 0x48, 0x44, 0x52];

/** The format and claimed size of a PNG or JPEG; refuses empty and unrecognized files. */
export function readImageHeader(read: ByteReader, file: string): ImageHeader {
  const head = read(0, 24);
  if (head.length === 0) throw new ImageFileError(file, 'the file is empty, not a PNG or JPEG image');
  if (head.length >= 8 && PNG_MAGIC.every((b, i) => head[i] === b)) {
    // IHDR must be the first chunk: length (4), type (4), then width and height, big-endian.
    const ok = head.length >= 24 && IHDR.every((b, i) => head[12 + i] === b);
    const dv = new DataView(head.buffer, head.byteOffset, head.byteLength);
    return { format: 'png', size: ok ? { width: dv.getUint32(16), height: dv.getUint32(20) } : undefined };
  }
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) {
    const frame = jpegFrame(read);
    // jpeg-js allocates every component's blocks at the frame header and only then finds it cannot make
    // colours of them: 200 components of a 16 MP frame would cost gigabytes.
    if (frame && ![1, 3, 4].includes(frame.components)) {
      throw new ImageFileError(file, `not a readable JPEG image (its frame has ${frame.components} colour components; 1, 3 or 4 can be read)`);
    }
    return { format: 'jpeg', size: frame && { width: frame.width, height: frame.height } };
  }
  throw new ImageFileError(file, 'not a PNG or JPEG image (unrecognized file header)');
}

// SOF0-3, 5-7, 9-11, 13-15: every frame header (0xc4 DHT, 0xc8 JPG and 0xcc DAC share the range).
const isSof = (m: number) => m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;

/** Real files reach their frame header within a few dozen segments (EXIF, ICC, XMP...). */
const MAX_SEGMENTS = 10_000;

/** The frame header's size and component count, walking the marker segments from SOI; undefined when
 *  none comes before the first scan (jpeg-js's own resolution and memory limits still apply then). */
function jpegFrame(read: ByteReader): { width: number; height: number; components: number } | undefined {
  let at = 2;
  for (let segments = 0; segments < MAX_SEGMENTS; segments++) {
    const b = read(at, 10);
    if (b.length < 2 || b[0] !== 0xff) return undefined;
    const marker = b[1];
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2; // TEM and RSTn stand alone
      continue;
    }
    if (marker === 0xd9 || marker === 0xda || b.length < 4) return undefined;
    if (isSof(marker)) return b.length < 10 ? undefined : { height: (b[5] << 8) | b[6], width: (b[7] << 8) | b[8], components: b[9] };
    at += 2 + ((b[2] << 8) | b[3]);
  }
  return undefined;
}

/** Refuses a claimed size with no pixels or over the limit; both before anything is allocated for it. */
export function checkImageSize(size: { width: number; height: number }, file: string, maxPixels: number): void {
  const { width, height } = size;
  if (width === 0 || height === 0) throw new ImageFileError(file, `the header gives a ${width}x${height} image (no pixels)`);
  if (width * height > maxPixels) throw new ImageTooLargeError(file, maxPixels, `the image is ${width}x${height} = ${fmt(width * height)} pixels`, size);
}
