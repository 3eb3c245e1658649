// The fuzz targets: the safetensors loader, the CIFAR-10 binary reader and the archive extractor, each fed
// seeded mutations of a small valid input. Accepted inputs are checked against an independent decode;
// refusals must be the parser's own error class with its usual opening words.
import { closeSync, ftruncateSync, mkdirSync, mkdtempSync, openSync, readdirSync, lstatSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Cifar10Error } from '../lib/data/errors.js';
import { extractCifar10Archive, MAX_ENTRY_BYTES } from '../lib/data/extract.js';
import { BATCHES_DIR, IMAGE_BYTES, META_FILE, OPTIONAL_FILES, RECORD_BYTES, TEST_FILES, TRAIN_FILES } from '../lib/data/layout.js';
import { readCifar10 } from '../lib/data/load.js';
import { dtypeBytes, parseSafetensors, readSafetensors, SafetensorsError, serializeSafetensors, type HostTensor, type SafeDType, type SafetensorsContents } from '../lib/nn/safetensors.js';
import { campaign, clearError, HUGE, mutateMany, pick, Rng, type FuzzReport } from './fuzz-mutate.js';

const CLASSES = 'airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n';

// ---------------------------------------------------------------- safetensors

function validSafetensors(): Uint8Array {
  const t = new Map<string, HostTensor>([
    ['net.0.weight', { dtype: 'F32', shape: [2, 3], data: Float32Array.of(1, -2, 3.5, 0, 1e-3, 7) }],
    ['net.0.bias', { dtype: 'F32', shape: [2], data: Float32Array.of(0.25, -0.5) }],
    ['steps', { dtype: 'I64', shape: [3], data: BigInt64Array.of(1n, -2n, 3n) }],
    ['half', { dtype: 'BF16', shape: [3, 1], data: Uint16Array.of(0x3f80, 0xbf80, 0x4000) }],
    ['empty', { dtype: 'U8', shape: [0, 4], data: new Uint8Array(0) }],
    ['scalar', { dtype: 'F64', shape: [], data: Float64Array.of(Math.PI) }],
  ]);
  return serializeSafetensors(t, { format: 'pt', 'vgg_cifar.epoch': '3' });
}

const WEIRD: unknown[] = [-1, 0, 1.5, 2 ** 31, 2 ** 32, 2 ** 40, 2 ** 53, 2 ** 64, 1e308, -0, '3', '', null, true, [], {}, [1, 2, 3], [-1, 4], [0.5],
  ['1'], [[1]], [2 ** 53, 1], 'F32', 'f32', 'F128', 'U1'];

/** Re-encodes `json` (an object or raw text) as a header of the right (or a wrong) length over `data`. */
function withHeader(text: string, data: Uint8Array, lengthDelta = 0): Uint8Array {
  const body = Buffer.from(text, 'utf8');
  const out = new Uint8Array(8 + body.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(Math.max(0, body.length + lengthDelta)), true);
  out.set(body, 8);
  out.set(data, 8 + body.length);
  return out;
}

/** A semantic mutation of the header: dtypes, shapes, offsets (overlapping, out of range, reversed), types. */
function mutateHeader(src: Uint8Array, rng: Rng): { bytes: Uint8Array; how: string } {
  const n = Number(new DataView(src.buffer, src.byteOffset).getBigUint64(0, true));
  const head = JSON.parse(Buffer.from(src.subarray(8, 8 + n)).toString('utf8')) as Record<string, Record<string, unknown>>;
  const data = src.subarray(8 + n);
  const names = Object.keys(head).filter((k) => k !== '__metadata__');
  const name = pick(rng, names);
  const e = head[name];
  const offs = e.data_offsets as number[];
  let how: string;
  switch (rng.nextInt(9)) {
    case 0: e.dtype = pick(rng, [...WEIRD, 'F16', 'I8', 'BOOL', 'U64', 'F8_E5M2']); how = `dtype ${JSON.stringify(e.dtype)}`; break;
    case 1: e.shape = rng.nextInt(2) ? pick(rng, WEIRD) : [pick(rng, WEIRD), 2]; how = `shape ${JSON.stringify(e.shape)}`; break;
    case 2: { const other = head[pick(rng, names)].data_offsets as number[]; e.data_offsets = [other[0], other[0] + (offs[1] - offs[0])]; how = 'overlapping offsets'; break; }
    case 3: e.data_offsets = [offs[0] + 1 + rng.nextInt(4096), offs[1] + 1 + rng.nextInt(4096)]; how = 'out-of-range offsets'; break;
    case 4: e.data_offsets = rng.nextInt(2) ? [offs[1], offs[0]] : [pick(rng, WEIRD), pick(rng, WEIRD)]; how = `offsets ${JSON.stringify(e.data_offsets)}`; break;
    case 5: e.data_offsets = pick(rng, WEIRD); how = `offsets ${JSON.stringify(e.data_offsets)}`; break;
    case 6: {
      const k = pick(rng, ['dtype', 'shape', 'data_offsets', 'extra']);
      if (k === 'extra') e.extra = 1; else delete e[k];
      how = `field ${k}`;
      break;
    }
    case 7: (head as Record<string, unknown>)[rng.nextInt(2) ? '__metadata__' : name] = pick(rng, [...WEIRD, { a: 1 }, { a: null }]); how = 'entry replaced'; break;
    default: {
      // the shape claims a huge tensor whose offsets agree with it
      const big = pick(rng, [2 ** 20, 2 ** 28, 2 ** 38, 2 ** 50]);
      e.dtype = 'U8'; e.shape = [big]; e.data_offsets = [offs[0], offs[0] + big];
      how = `tensor of ${big} bytes`;
    }
  }
  let text = JSON.stringify(head);
  if (rng.nextInt(8) === 0) text = text.replace(`"${name}"`, `"${name}":{},"${name}"`); // duplicate key
  const delta = rng.nextInt(6) === 0 ? pick(rng, [-1, 1, 7, -8, 1000]) : 0;
  return { bytes: withHeader(text, data, delta), how: how + (delta ? `, length ${delta > 0 ? '+' : ''}${delta}` : '') };
}

/** Independent check of an accepted file: every header entry's bytes, dtype and shape, and exact tiling. */
function checkSafetensors(bytes: Uint8Array, got: SafetensorsContents): void {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const head = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8')) as Record<string, { dtype: SafeDType; shape: number[]; data_offsets: [number, number] }>;
  const names = Object.keys(head).filter((k) => k !== '__metadata__');
  if (names.length !== got.tensors.size) throw new Error(`CHECK: ${names.length} entries, ${got.tensors.size} tensors returned`);
  let covered = 0;
  for (const k of names) {
    const h = head[k];
    const t = got.tensors.get(k);
    if (!t || t.dtype !== h.dtype || JSON.stringify(t.shape) !== JSON.stringify(h.shape)) throw new Error(`CHECK: tensor ${k} differs from its header entry`);
    const [b, e] = h.data_offsets;
    if (t.data.length !== h.shape.reduce((a, x) => a * x, 1) || t.data.byteLength !== e - b || (e - b) !== t.data.length * dtypeBytes(h.dtype)) {
      throw new Error(`CHECK: tensor ${k} has ${t.data.byteLength} bytes for shape ${JSON.stringify(h.shape)}`);
    }
    const want = bytes.subarray(8 + n + b, 8 + n + e);
    if (Buffer.compare(Buffer.from(want), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)) !== 0) throw new Error(`CHECK: tensor ${k} data differs`);
    covered += e - b;
  }
  if (covered !== bytes.length - 8 - n) throw new Error(`CHECK: tensors cover ${covered} of ${bytes.length - 8 - n} data bytes`);
}

export async function fuzzSafetensors(count: number, seed: number, tmp: string): Promise<FuzzReport> {
  const base = validSafetensors();
  const rng = new Rng(seed);
  const file = join(tmp, 'fuzz.safetensors');
  return campaign('safetensors loader', count, 2000, async () => {
    const m = rng.nextInt(2) ? mutateHeader(base, rng) : mutateMany(base, rng);
    const viaFile = rng.nextInt(4) === 0;
    return {
      how: m.how + (viaFile ? ' (file)' : ''),
      run: () => {
        let got: SafetensorsContents;
        if (viaFile) {
          writeFileSync(file, m.bytes);
          got = readSafetensors(file);
        } else got = parseSafetensors(m.bytes, 'fuzz.safetensors');
        checkSafetensors(m.bytes, got);
        return 'accepted';
      },
    };
  }, clearError(SafetensorsError, /^\S*fuzz\.safetensors: not a valid safetensors file: \S/));
}

// ---------------------------------------------------------------- CIFAR-10 reader

function validBatch(records: number, rng: Rng): Uint8Array {
  const b = new Uint8Array(records * RECORD_BYTES);
  for (let r = 0; r < records; r++) {
    b[r * RECORD_BYTES] = rng.nextInt(10);
    for (let k = 1; k < RECORD_BYTES; k++) b[r * RECORD_BYTES + k] = rng.nextInt(256);
  }
  return b;
}

/** What the folder should decode to, computed directly from the bytes. */
function checkCifar(files: Map<string, Uint8Array>, got: Awaited<ReturnType<typeof readCifar10>>): void {
  const names = CLASSES.trim().split('\n');
  const meta = Buffer.from(files.get(META_FILE)!).toString('utf8').split(/\r?\n/).map((s) => s.trim()).filter(Boolean);
  if (meta.length !== 10 || JSON.stringify(got.classes) !== JSON.stringify(meta)) throw new Error(`CHECK: classes ${JSON.stringify(got.classes)}`);
  void names;
  for (const [split, list] of [['train', TRAIN_FILES], ['test', TEST_FILES]] as const) {
    const s = got[split]!;
    let at = 0;
    for (const f of list) {
      const b = files.get(f)!;
      if (b.length === 0 || b.length % RECORD_BYTES !== 0) throw new Error(`CHECK: accepted ${f} of ${b.length} bytes`);
      for (let r = 0; r < b.length / RECORD_BYTES; r++, at++) {
        if (b[r * RECORD_BYTES] > 9 || s.labels[at] !== b[r * RECORD_BYTES]) throw new Error(`CHECK: ${f} record ${r} label`);
        if (Buffer.compare(Buffer.from(b.subarray(r * RECORD_BYTES + 1, (r + 1) * RECORD_BYTES)), Buffer.from(s.images.subarray(at * IMAGE_BYTES, (at + 1) * IMAGE_BYTES))) !== 0) {
          throw new Error(`CHECK: ${f} record ${r} pixels`);
        }
      }
    }
    if (at !== s.count) throw new Error(`CHECK: ${split} count ${s.count}, expected ${at}`);
  }
}

export async function fuzzCifarReader(count: number, seed: number, tmp: string): Promise<FuzzReport> {
  const rng = new Rng(seed);
  const good = new Map<string, Uint8Array>();
  for (const f of [...TRAIN_FILES, ...TEST_FILES]) good.set(f, validBatch(2, rng));
  good.set(META_FILE, Buffer.from(CLASSES));
  const dir = join(tmp, 'cifar');
  mkdirSync(dir, { recursive: true });
  for (const [f, b] of good) writeFileSync(join(dir, f), b);
  let restore: (() => void) | null = null;
  return campaign('CIFAR-10 reader', count, 3000, async () => {
    restore?.();
    const f = rng.nextInt(5) === 0 ? META_FILE : pick(rng, [...TRAIN_FILES, ...TEST_FILES]);
    const path = join(dir, f);
    const files = new Map(good);
    restore = () => { rmSync(path, { recursive: true, force: true }); writeFileSync(path, good.get(f)!); };
    const kind = rng.nextInt(12);
    let how: string;
    if (kind === 0) {
      // a sparse file: a whole number of records, or not, and far more than any batch holds
      const size = pick(rng, [RECORD_BYTES * 2 ** 20, RECORD_BYTES * 2 ** 24, 2 ** 40, 2 ** 32 + 1]);
      const fd = openSync(path, 'r+');
      ftruncateSync(fd, size);
      closeSync(fd);
      how = `${f} sparse, ${size} bytes`;
      files.set(f, new Uint8Array(0)); // never accepted
    } else if (kind === 1) {
      unlinkSync(path);
      if (rng.nextInt(2)) mkdirSync(path);
      how = `${f} missing or a folder`;
    } else if (kind === 2 && f !== META_FILE) {
      // labels out of range
      const b = Uint8Array.from(good.get(f)!);
      b[RECORD_BYTES * rng.nextInt(2)] = 10 + rng.nextInt(246);
      writeFileSync(path, b);
      files.set(f, b);
      how = `${f} bad label`;
    } else if (kind === 3 && f === META_FILE) {
      const text = pick(rng, ['', '\n\n', CLASSES.replace('cat\n', ''), CLASSES + 'eleventh\n', CLASSES.replace(/\n/g, '\r\n'), '\xff\xfe\x00bad']);
      writeFileSync(path, text);
      files.set(f, Buffer.from(text));
      how = `meta ${JSON.stringify(text.slice(0, 20))}`;
    } else {
      const m = mutateMany(good.get(f)!, rng);
      writeFileSync(path, m.bytes);
      files.set(f, m.bytes);
      how = `${f}: ${m.how}`;
    }
    return { how, run: async () => { checkCifar(files, await readCifar10(dir)); return 'accepted' as const; } };
  }, clearError(Cifar10Error, /^CIFAR-10: \S/)).finally(() => restore?.());
}

// ---------------------------------------------------------------- archive extractor

interface Entry { name: string; type: string; data: Uint8Array }

function ustarHeader(name: string, type: string, size: number, fix = true): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => h.write(s, off, Math.min(len, Buffer.byteLength(s)), 'latin1');
  const oct = (n: number, off: number, len: number) => put(n.toString(8).padStart(len - 1, '0') + '\0', off, len);
  put(name, 0, 100);
  oct(type === '5' ? 0o755 : 0o644, 100, 8);
  oct(0, 108, 8);
  oct(0, 116, 8);
  oct(size, 124, 12);
  oct(1_700_000_000, 136, 12);
  put(type, 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  if (fix) checksum(h);
  return h;
}

function checksum(h: Uint8Array): void {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += h[i];
  Buffer.from(h.buffer, h.byteOffset, 512).write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'latin1');
}

function tarBytes(entries: Entry[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (const e of entries) blocks.push(ustarHeader(e.name, e.type, e.data.length), e.data, new Uint8Array((512 - (e.data.length % 512)) % 512));
  blocks.push(new Uint8Array(1024));
  return Buffer.concat(blocks);
}

/** Header fields a hostile or damaged archive would get wrong (checksum fixed up most of the time). */
function mutateTarHeader(tar: Uint8Array, rng: Rng): { bytes: Uint8Array; how: string } {
  const b = Uint8Array.from(tar);
  const heads: number[] = [];
  for (let o = 0; o + 512 <= b.length;) {
    if (b[o] === 0) break;
    heads.push(o);
    const size = parseInt(Buffer.from(b.subarray(o + 124, o + 135)).toString('latin1'), 8) || 0;
    o += 512 + Math.ceil(size / 512) * 512;
  }
  const o = pick(rng, heads);
  const buf = Buffer.from(b.buffer, b.byteOffset + o, 512);
  let how: string;
  switch (rng.nextInt(6)) {
    case 0: { const s = pick(rng, [0, 1, 511, 513, 2 ** 26 + 1, 2 ** 33 - 1, 8 ** 11 - 1]); buf.write(s.toString(8).padStart(11, '0') + '\0', 124, 12, 'latin1'); how = `size ${s}`; break; }
    case 1: { buf[124] = 0x80; buf.fill(0xff, 125, 136); how = 'base-256 size'; break; }
    case 2: { const t = pick(rng, ['1', '2', '3', '4', '5', '6', '7', 'g', 'x', 'L', 'K', 'S', 'V', '\0']); buf.write(t, 156, 1, 'latin1'); buf.write('cifar-10-batches-bin/data_batch_1.bin', 157, 100, 'latin1'); how = `type ${JSON.stringify(t)}`; break; }
    case 3: {
      const name = pick(rng, ['/etc/passwd', '../evil', 'cifar-10-batches-bin/../../x', 'cifar-10-batches-bin/extra.bin', 'other/data_batch_1.bin',
        'cifar-10-batches-bin\\data_batch_1.bin', 'C:/x', 'cifar-10-batches-bin/./data_batch_2.bin', './cifar-10-batches-bin/test_batch.bin', '']);
      buf.fill(0, 0, 100); buf.write(name, 0, 100, 'latin1'); how = `name ${JSON.stringify(name)}`; break;
    }
    case 4: { buf.fill(0, 345, 500); buf.write(pick(rng, ['..', '/tmp', 'cifar-10-batches-bin/..']), 345, 155, 'latin1'); how = 'prefix'; break; }
    default: { buf.write(pick(rng, ['0000000', '7777777', 'xyz']), 100, 8, 'latin1'); how = 'mode'; }
  }
  if (rng.nextInt(10) !== 0) checksum(buf); else how += ' (bad checksum)';
  return { bytes: b, how: `header at ${o}: ${how}` };
}

const ALLOWED = new Set<string>([...TRAIN_FILES, ...TEST_FILES, META_FILE, ...OPTIONAL_FILES]);

/** After an extraction: on success only the layout's regular files; on failure nothing at all. */
function checkExtraction(dest: string, ok: boolean): void {
  const left = readdirSync(dest, { recursive: true }) as string[];
  if (!ok) {
    if (left.length) throw new Error(`PARTIAL: a refused archive left ${left.join(', ')} in the destination`);
    return;
  }
  if (!left.every((f) => f === BATCHES_DIR || f.startsWith(BATCHES_DIR + '/'))) throw new Error(`CHECK: destination holds ${left.join(', ')}`);
  const files = readdirSync(join(dest, BATCHES_DIR));
  for (const f of [...TRAIN_FILES, ...TEST_FILES, META_FILE]) if (!files.includes(f)) throw new Error(`CHECK: ${f} missing after success`);
  for (const f of files) {
    const s = lstatSync(join(dest, BATCHES_DIR, f));
    if (!ALLOWED.has(f) || !s.isFile() || s.size > MAX_ENTRY_BYTES) throw new Error(`CHECK: extracted ${f} (${s.isFile() ? s.size + ' bytes' : 'not a file'})`);
  }
}

export async function fuzzExtractor(count: number, seed: number, tmp: string): Promise<FuzzReport> {
  const rng = new Rng(seed);
  const entries: Entry[] = [{ name: `${BATCHES_DIR}/`, type: '5', data: new Uint8Array(0) }];
  for (const f of [...TRAIN_FILES, ...TEST_FILES]) entries.push({ name: `${BATCHES_DIR}/${f}`, type: '0', data: validBatch(1, rng) });
  entries.push({ name: `${BATCHES_DIR}/${META_FILE}`, type: '0', data: Buffer.from(CLASSES) });
  entries.push({ name: `${BATCHES_DIR}/readme.html`, type: '0', data: Buffer.from('<html></html>') });
  const tar = tarBytes(entries);
  const gz = gzipSync(tar);
  const archive = join(tmp, 'fuzz.tar.gz');
  let n = 0;
  return campaign('archive extractor', count, 5000, async () => {
    const mode = rng.nextInt(3);
    const m = mode === 0 ? mutateMany(gz, rng) : mode === 1 ? mutateMany(tar, rng) : mutateTarHeader(tar, rng);
    writeFileSync(archive, mode === 0 ? m.bytes : gzipSync(m.bytes));
    const dest = join(tmp, `x${n++}`);
    mkdirSync(dest);
    return {
      how: `${['gz', 'tar', 'header'][mode]}: ${m.how}`,
      run: async () => {
        try {
          await extractCifar10Archive(archive, dest);
        } catch (e) {
          checkExtraction(dest, false);
          throw e;
        } finally {
          setImmediate(() => rmSync(dest, { recursive: true, force: true }));
        }
        checkExtraction(dest, true);
        return 'accepted' as const;
      },
    };
  }, clearError(Cifar10Error, /^CIFAR-10: \S/));
}
