// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of
// JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}} (padded with
// spaces), then the raw little-endian tensor bytes, offsets relative to the end of the header.
// Reading checks everything before trusting it: N against the file size before allocating, the JSON,
// each entry's fields, shape x dtype size == byte length, and that the tensors tile the data region
// exactly (in range, no overlap, no gap), like the reference implementation.
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { endianness } from 'node:os';

export type SafeDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL' | 'F8_E4M3' | 'F8_E5M2';
export type HostArray = Float64Array | Float32Array | Uint16Array | BigInt64Array | BigUint64Array | Int32Array | Uint32Array | Int16Array | Int8Array | Uint8Array;

/** A tensor on the host in plain row-major order (F16/BF16 as their raw 16-bit words). */
export interface HostTensor {
  dtype: SafeDType;
  shape: number[];
  data: HostArray;
}

const DTYPES: Record<SafeDType, { bytes: number; make: (buf: ArrayBuffer, n: number) => HostArray }> = {
  F64: { bytes: 8, make: (b, n) => new Float64Array(b, 0, n) },
  F32: { bytes: 4, make: (b, n) => new Float32Array(b, 0, n) },
  F16: { bytes: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  BF16: { bytes: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  I64: { bytes: 8, make: (b, n) => new BigInt64Array(b, 0, n) },
  I32: { bytes: 4, make: (b, n) => new Int32Array(b, 0, n) },
  I16: { bytes: 2, make: (b, n) => new Int16Array(b, 0, n) },
  I8: { bytes: 1, make: (b, n) => new Int8Array(b, 0, n) },
  U64: { bytes: 8, make: (b, n) => new BigUint64Array(b, 0, n) },
  U32: { bytes: 4, make: (b, n) => new Uint32Array(b, 0, n) },
  U16: { bytes: 2, make: (b, n) => new Uint16Array(b, 0, n) },
  U8: { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  BOOL: { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  F8_E4M3: { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
  F8_E5M2: { bytes: 1, make: (b, n) => new Uint8Array(b, 0, n) },
};

/** The reference implementation's limit on the header size. */
export const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsError extends Error {
  readonly file: string;
  constructor(file: string, message: string) {
    super(`${file}: not a valid safetensors file: ${message}`);
    this.name = 'SafetensorsError';
    this.file = file;
  }
}

export interface SafetensorsContents {
  tensors: Map<string, HostTensor>;
  metadata: Record<string, string>;
}

interface Entry { name: string; dtype: SafeDType; shape: number[]; begin: number; end: number }

function checkHost(): void {
  if (endianness() !== 'LE') throw new Error('safetensors: big-endian hosts are not supported');
}

/** Validates a parsed header against the size of the data region; returns the entries and metadata. */
function parseHeader(file: string, headerBytes: Uint8Array, dataLen: number): { entries: Entry[]; metadata: Record<string, string> } {
  const bad = (msg: string) => new SafetensorsError(file, msg);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    throw bad('the header is not valid UTF-8');
  }
  if (!text.startsWith('{')) throw bad(`the header must start with '{', got ${JSON.stringify(text.slice(0, 20))}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw bad(`the header is not valid JSON (${(e as Error).message})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw bad('the header must be a JSON object');
  const metadata: Record<string, string> = {};
  const entries: Entry[] = [];
  for (const [name, v] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('__metadata__ must be an object of strings');
      for (const [k, s] of Object.entries(v)) {
        if (typeof s !== 'string') throw bad(`__metadata__.${k} must be a string, got ${typeof s}`);
        metadata[k] = s;
      }
      continue;
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(`tensor '${name}': entry must be an object`);
    const o = v as Record<string, unknown>;
    const extra = Object.keys(o).filter((k) => !['dtype', 'shape', 'data_offsets'].includes(k));
    if (extra.length) throw bad(`tensor '${name}': unknown field(s) ${extra.join(', ')}`);
    if (typeof o.dtype !== 'string' || !(o.dtype in DTYPES)) throw bad(`tensor '${name}': unknown dtype ${JSON.stringify(o.dtype)}`);
    const dtype = o.dtype as SafeDType;
    if (!Array.isArray(o.shape) || o.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw bad(`tensor '${name}': shape must be an array of non-negative integers, got ${JSON.stringify(o.shape)}`);
    }
    const shape = o.shape as number[];
    const off = o.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || off.some((d) => !Number.isSafeInteger(d) || d < 0) || off[0] > off[1]) {
      throw bad(`tensor '${name}': data_offsets must be [begin, end] with 0 <= begin <= end, got ${JSON.stringify(off)}`);
    }
    const [begin, end] = off as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    if (!Number.isSafeInteger(n * DTYPES[dtype].bytes) || n * DTYPES[dtype].bytes !== end - begin) {
      throw bad(`tensor '${name}': shape [${shape.join(', ')}] of ${dtype} needs ${n * DTYPES[dtype].bytes} bytes, data_offsets give ${end - begin}`);
    }
    entries.push({ name, dtype, shape, begin, end });
  }
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin !== pos) {
      throw bad(e.begin < pos
        ? `tensor '${e.name}' at bytes [${e.begin}, ${e.end}) overlaps the previous tensor (ends at ${pos})`
        : `gap in the data before tensor '${e.name}' (bytes ${pos}..${e.begin} belong to no tensor)`);
    }
    pos = e.end;
  }
  if (pos !== dataLen) {
    throw bad(pos > dataLen
      ? `truncated: the tensors need ${pos} data bytes, the file has ${dataLen}`
      : `${dataLen - pos} trailing bytes after the last tensor`);
  }
  return { entries, metadata };
}

function readHeaderLength(file: string, first8: Uint8Array, fileSize: number): number {
  if (fileSize < 8) throw new SafetensorsError(file, `truncated: ${fileSize} bytes, shorter than the 8-byte header length`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n < 2n) throw new SafetensorsError(file, `header length ${n} is too small for a JSON object`);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new SafetensorsError(file, `header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (n > BigInt(fileSize - 8)) throw new SafetensorsError(file, `truncated: the header length is ${n} bytes but only ${fileSize - 8} follow`);
  return Number(n);
}

/** Parses a whole safetensors file held in memory. */
export function parseSafetensors(bytes: Uint8Array, file = '<buffer>'): SafetensorsContents {
  checkHost();
  const n = readHeaderLength(file, bytes.subarray(0, 8), bytes.length);
  const { entries, metadata } = parseHeader(file, bytes.subarray(8, 8 + n), bytes.length - 8 - n);
  const tensors = new Map<string, HostTensor>();
  const base = 8 + n;
  for (const e of entries) {
    const buf = new ArrayBuffer(e.end - e.begin);
    new Uint8Array(buf).set(bytes.subarray(base + e.begin, base + e.end));
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: DTYPES[e.dtype].make(buf, (e.end - e.begin) / DTYPES[e.dtype].bytes) });
  }
  return { tensors, metadata };
}

/** The validated header of an open file: its entries, metadata and length. */
function readHeader(fd: number, path: string): { entries: Entry[]; metadata: Record<string, string>; n: number } {
  const size = fstatSync(fd).size;
  const first8 = new Uint8Array(8);
  if (size >= 8) readExactly(fd, first8, 0, path);
  const n = readHeaderLength(path, first8, size);
  const header = new Uint8Array(n);
  readExactly(fd, header, 8, path);
  return { ...parseHeader(path, header, size - 8 - n), n };
}

/** Reads a safetensors file; validates the header before reading (or allocating for) any data. */
export function readSafetensors(path: string): SafetensorsContents {
  checkHost();
  const fd = openSync(path, 'r');
  try {
    const { entries, metadata, n } = readHeader(fd, path);
    const tensors = new Map<string, HostTensor>();
    for (const e of entries) {
      const buf = allocateFor(path, e);
      readExactly(fd, new Uint8Array(buf), 8 + n + e.begin, path);
      tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: DTYPES[e.dtype].make(buf, (e.end - e.begin) / DTYPES[e.dtype].bytes) });
    }
    return { tensors, metadata };
  } finally {
    closeSync(fd);
  }
}

/** The metadata of a safetensors file, its header validated, without reading the tensors (a VGG16
 *  checkpoint is 0.5 GB; a run folder's inventory reads only this). */
export function readSafetensorsMetadata(path: string): Record<string, string> {
  const fd = openSync(path, 'r');
  try {
    return readHeader(fd, path).metadata;
  } finally {
    closeSync(fd);
  }
}

/** The buffer of one tensor; a size the process cannot hold (a damaged or sparse file) is a clear error. */
function allocateFor(path: string, e: Entry): ArrayBuffer {
  try {
    return new ArrayBuffer(e.end - e.begin);
  } catch {
    throw new SafetensorsError(path, `tensor '${e.name}' claims ${e.end - e.begin} bytes, more than this process can allocate`);
  }
}

function readExactly(fd: number, into: Uint8Array, position: number, path: string): void {
  let done = 0;
  while (done < into.length) {
    const r = readSync(fd, into, done, into.length - done, position + done);
    if (r === 0) throw new SafetensorsError(path, `truncated: ended at byte ${position + done} while reading ${into.length} bytes at ${position}`);
    done += r;
  }
}

export function dtypeBytes(d: SafeDType): number {
  return DTYPES[d].bytes;
}

/** The header and the order of the data for a set of tensors. */
export function encodeHeader(tensors: Map<string, HostTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let pos = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__') throw new RangeError('safetensors: a tensor cannot be named __metadata__');
    if (!(t.dtype in DTYPES)) throw new RangeError(`safetensors: tensor '${name}' has unknown dtype ${t.dtype}`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new RangeError(`safetensors: tensor '${name}' has shape [${t.shape.join(', ')}] but ${t.data.length} elements`);
    const bytes = n * DTYPES[t.dtype].bytes;
    if (t.data.byteLength !== bytes) throw new RangeError(`safetensors: tensor '${name}' (${t.dtype}) holds ${t.data.byteLength} bytes, expected ${bytes}`);
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [pos, pos + bytes] };
    pos += bytes;
  }
  let json = JSON.stringify(header);
  // Pad so that the data starts 8-byte aligned, as the reference writer does.
  const len = Buffer.byteLength(json);
  json += ' '.repeat((8 - ((8 + len) % 8)) % 8);
  const body = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + body.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(body.length), true);
  out.set(body, 8);
  return out;
}

/** Writes the file's bytes to an open descriptor (tensor data straight from the arrays, no big copy). */
export function writeSafetensorsFd(fd: number, tensors: Map<string, HostTensor>, metadata: Record<string, string> = {}): void {
  checkHost();
  writeAll(fd, encodeHeader(tensors, metadata));
  for (const t of tensors.values()) writeAll(fd, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}

/** The whole file in memory (tests, small files). */
export function serializeSafetensors(tensors: Map<string, HostTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const head = encodeHeader(tensors, metadata);
  let total = head.length;
  for (const t of tensors.values()) total += t.data.byteLength;
  const out = new Uint8Array(total);
  out.set(head, 0);
  let pos = head.length;
  for (const t of tensors.values()) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done);
}
