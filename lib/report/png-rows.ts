// PNG decoded row by row. pngjs 7's decoders (sync and stream) inflate, unfilter and convert the whole
// image before handing any of it over, holding up to three full-size copies; it has no row hook. Its
// building blocks work a row at a time, so this wires them to a streaming inflater: pngjs's chunk
// parser (CRC checks, IHDR/PLTE/tRNS rules); minizlib's Inflate (Node's own zlib, synchronous, as tar
// uses it) fed the compressed data in small slices; pngjs's unfiltering (which keeps the row above);
// then its bit-depth, palette and transparency conversion, per row. Each row goes to the sink as it is
// produced; no decoded image is held. These are internal modules of pngjs, pinned to an exact version
// with it (test/report/png-rows.test.ts checks the result against pngjs's own decoder for every colour
// type, bit depth and interlacing).
import { createRequire } from 'node:module';
import { Inflate } from 'minizlib';

const require = createRequire(import.meta.url);

interface PngMeta { width: number; height: number; depth: number; bpp: number; colorType: number; interlace: boolean }
/** What the per-row conversion reads: a one-row (or one pass-row) image. */
interface RowInfo extends PngMeta { palette?: number[][]; transColor?: number[] }
type ReadRequest = (length: number, callback: (data: Buffer) => void) => void;

const SyncReader = require('pngjs/lib/sync-reader.js') as new (buf: Buffer) => { read: ReadRequest; process(): void };
const Parser = require('pngjs/lib/parser.js') as new (options: object, deps: Record<string, unknown>) => { start(): void };
const Filter = require('pngjs/lib/filter-parse.js') as new (info: PngMeta,
  deps: { read: ReadRequest; write: (line: Buffer) => void; complete: () => void }) => { start(): void };
const bitmapper = require('pngjs/lib/bitmapper.js') as { dataToBitMap(data: Buffer, info: RowInfo): Buffer | Uint16Array };
const formatNormaliser = require('pngjs/lib/format-normaliser.js') as (data: Buffer | Uint16Array, info: RowInfo) => Buffer;
const interlace = require('pngjs/lib/interlace.js') as { getImagePasses(w: number, h: number): Array<{ width: number; height: number; index: number }> };

/** Adam7 pass i holds the pixels x = X0[i] + k*DX[i] of the rows y = Y0[i] + k*DY[i]. */
const X0 = [0, 4, 0, 2, 0, 1, 0];
const DX = [8, 8, 4, 4, 2, 2, 1];
const Y0 = [0, 0, 4, 0, 2, 0, 1];
const DY = [8, 8, 8, 4, 4, 2, 2];

/** `count` 8-bit RGBA pixels of image row y, at x = x0, x0 + dx, … */
export type RowSink = (y: number, rgba: Uint8Array, x0: number, dx: number, count: number) => void;

/** Compressed bytes inflated at a time: deflate expands at most ~1032:1, so no slice yields more than
 *  about 4 MB, however the file lies about its size. */
const SLICE = 4 * 1024;

/** Rows out of the inflated stream: unfiltered, converted, handed to the sink in the file's order. */
class Rows {
  private readonly inflater = new Inflate({});
  private zlibError: Error | undefined;
  private readonly passes: Array<{ width: number; height: number; x0: number; dx: number; y0: number; dy: number }>;
  private pass = 0;
  private row = 0;
  private rowsDone = 0;
  private readonly rowsTotal: number;
  private line = Buffer.alloc(0);
  private filled = 0;
  private want: ((line: Buffer) => void) | null = null;
  private complete = false;

  constructor(private readonly info: RowInfo, private readonly sink: RowSink) {
    const { width, height } = info;
    this.passes = info.interlace
      ? interlace.getImagePasses(width, height).map((p) => ({ width: p.width, height: p.height, x0: X0[p.index], dx: DX[p.index], y0: Y0[p.index], dy: DY[p.index] }))
      : [{ width, height, x0: 0, dx: 1, y0: 0, dy: 1 }];
    this.rowsTotal = this.passes.reduce((s, p) => s + p.height, 0);
    this.inflater.on('data', (chunk: Buffer) => this.take(chunk));
    this.inflater.on('error', (e) => { this.zlibError = e as Error; });
    new Filter(info, {
      read: (length, callback) => {
        // A fresh buffer per row: unfiltering the next row reads this one.
        this.line = Buffer.allocUnsafe(length);
        this.filled = 0;
        this.want = callback;
      },
      write: (line) => this.convert(line),
      complete: () => { this.complete = true; },
    }).start();
  }

  push(data: Buffer): void {
    for (let at = 0; at < data.length && !this.zlibError; at += SLICE) this.inflater.write(data.subarray(at, at + SLICE));
    if (this.zlibError) throw this.zlibError;
  }

  /** After the last chunk: every row the header claims must have come. */
  finish(): void {
    this.inflater.end();
    // A damaged stream is refused even past the last row (a bad checksum): the data is not what was written.
    if (this.zlibError) throw this.zlibError;
    if (!this.complete) {
      const { width, height, interlace: il } = this.info;
      throw new Error(`the image data ends after ${this.rowsDone} of the ${this.rowsTotal} ${il ? 'interlaced pass rows' : 'rows'} its ${width}x${height} header claims`);
    }
  }

  close(): void {
    this.inflater.close();
  }

  private take(chunk: Buffer): void {
    for (let at = 0; at < chunk.length;) {
      const want = this.want;
      if (!want) throw new Error(`more image data than its ${this.info.width}x${this.info.height} header claims`);
      const n = Math.min(this.line.length - this.filled, chunk.length - at);
      this.line.set(chunk.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === this.line.length) {
        this.want = null;
        want(this.line); // unfilters, calls convert(), then asks for the next row (or completes)
      }
    }
  }

  private convert(line: Buffer): void {
    const p = this.passes[this.pass];
    const info = { ...this.info, width: p.width, height: 1, interlace: false };
    const rgba = formatNormaliser(bitmapper.dataToBitMap(line, info), info);
    this.sink(p.y0 + this.row * p.dy, rgba, p.x0, p.dx, p.width);
    this.rowsDone++;
    if (++this.row === p.height) {
      this.pass++;
      this.row = 0;
    }
  }
}

/** pngjs's messages that say little to someone holding the file. */
const PLAINER: Array<[RegExp, string]> = [
  [/read requests waitng on finished stream/, 'the file is cut short: it ends inside a chunk or before IEND'],
  [/unrecognised content at end of stream/, 'bytes after the end chunk, IEND'],
  [/^Crc error/, 'a chunk fails its CRC check: the file is damaged'],
];
const plainer = (e: Error) => {
  const better = PLAINER.find(([re]) => re.test(e.message));
  return better ? new Error(better[1]) : e;
};

/** Decodes `buf` (a whole PNG file), calling `begin` with the header's size and then the sink it
 *  returns with every row. Errors are plain Errors saying what is wrong with the file. */
export function decodePngRows(buf: Buffer, begin: (width: number, height: number) => RowSink): void {
  let info: RowInfo | undefined;
  let rows: Rows | undefined;
  let failure: Error | undefined;
  // Each IDAT's data is inflated once the next chunk begins, that is once its CRC has been checked, so
  // a damaged chunk is reported as such rather than as whatever its bytes decode to. It is a view into
  // `buf`: holding it costs nothing.
  let pending: Buffer | undefined;
  const flush = () => {
    if (!pending) return;
    (rows ??= new Rows(info!, begin(info!.width, info!.height))).push(pending);
    pending = undefined;
  };
  const reader = new SyncReader(buf);
  new Parser({}, {
    read: reader.read.bind(reader),
    error: (e: Error) => { failure ??= e; },
    metadata: (m: PngMeta) => { info = { ...m }; },
    gamma: () => {},
    palette: (p: number[][]) => { info!.palette = p; },
    transColor: (t: number[]) => { info!.transColor = t; },
    simpleTransparency: () => {},
    inflateData: (data: Buffer) => {
      flush();
      pending = data;
    },
  }).start();
  try {
    reader.process();
    if (failure) throw failure;
    flush();
    if (!rows) throw new Error('no image data (no IDAT chunk)');
    rows.finish();
  } catch (e) {
    // Once the parser has failed it asks for nothing more and the reader complains of the bytes left:
    // the parser's reason is the one to give.
    throw plainer(failure ?? (e as Error));
  } finally {
    rows?.close();
  }
}
