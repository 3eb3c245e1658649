// safetensors files written byte by byte here from the format's spec, read back; malformed files
// refused with an error naming the file; atomic writes; strict state-dict loading.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSafetensors, readSafetensors, serializeSafetensors, type HostTensor } from '../../lib/nn/safetensors.js';
import { writeFileAtomic } from '../../lib/atomic-file.js';
import { loadStateDict, stateDict, StateDictError } from '../../lib/nn/state.js';
import { vgg } from '../../lib/models/vgg.js';

const dir = mkdtempSync(join(tmpdir(), 'vgg-st-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A file per the spec: u64 LE header length, the JSON header, the little-endian data. */
function handMade(header: string, data: number[]): Uint8Array {
  const h = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + h.length + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, h.length, true);
  dv.setUint32(4, 0, true);
  out.set(h, 8);
  out.set(data, 8 + h.length);
  return out;
}

function f32le(values: number[]): number[] {
  const b = new Uint8Array(values.length * 4);
  const dv = new DataView(b.buffer);
  values.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  return [...b];
}

function put(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

const GOOD_HEADER = '{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},' +
  '"n":{"dtype":"I64","shape":[],"data_offsets":[16,24]},"b":{"dtype":"U8","shape":[3],"data_offsets":[24,27]}}  ';
const GOOD_DATA = [...f32le([1.5, -2, 0.25, 3]), 7, 0, 0, 0, 0, 0, 0, 0, 9, 8, 255];

describe('safetensors reader', () => {
  it('loads a file written by hand per the spec (dtypes, scalar shape, metadata, padding)', () => {
    const p = put('hand.safetensors', handMade(GOOD_HEADER, GOOD_DATA));
    const { tensors, metadata } = readSafetensors(p);
    expect(metadata).toEqual({ format: 'pt' });
    expect(tensors.get('w')).toMatchObject({ dtype: 'F32', shape: [2, 2] });
    expect(Array.from(tensors.get('w')!.data as Float32Array)).toEqual([1.5, -2, 0.25, 3]);
    expect(tensors.get('n')!.shape).toEqual([]);
    expect((tensors.get('n')!.data as BigInt64Array)[0]).toBe(7n);
    expect(Array.from(tensors.get('b')!.data as Uint8Array)).toEqual([9, 8, 255]);
    // in-memory parse agrees with the file reader
    expect(Array.from(parseSafetensors(readFileSync(p)).tensors.get('w')!.data as Float32Array)).toEqual([1.5, -2, 0.25, 3]);
  });

  it('writes what it reads: header 8-byte aligned, offsets contiguous in insertion order', () => {
    const t = new Map<string, HostTensor>([
      ['a', { dtype: 'F32', shape: [3], data: Float32Array.of(1, 2, 3) }],
      ['c', { dtype: 'I64', shape: [], data: BigInt64Array.of(42n) }],
    ]);
    const bytes = serializeSafetensors(t, { k: 'v' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect((8 + n) % 8).toBe(0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    expect(header.a).toEqual({ dtype: 'F32', shape: [3], data_offsets: [0, 12] });
    expect(header.c).toEqual({ dtype: 'I64', shape: [], data_offsets: [12, 20] });
    expect(header.__metadata__).toEqual({ k: 'v' });
    const back = parseSafetensors(bytes);
    expect(Array.from(back.tensors.get('a')!.data as Float32Array)).toEqual([1, 2, 3]);
    expect(back.metadata).toEqual({ k: 'v' });
  });

  const bad: Array<[string, () => Uint8Array, RegExp]> = [
    ['empty file', () => new Uint8Array(0), /truncated: 0 bytes/],
    ['truncated header length', () => new Uint8Array(5), /truncated: 5 bytes/],
    ['header length beyond the file', () => handMade(GOOD_HEADER, GOOD_DATA).subarray(0, 40), /truncated: the header length is \d+ bytes but only 32 follow/],
    ['header length huge (2^62)', () => {
      const b = handMade(GOOD_HEADER, GOOD_DATA);
      new DataView(b.buffer).setBigUint64(0, 2n ** 62n, true);
      return b;
    }, /exceeds the 100000000-byte limit/],
    ['truncated data', () => handMade(GOOD_HEADER, GOOD_DATA).subarray(0, 8 + GOOD_HEADER.length + 20), /truncated: the tensors need 27 data bytes, the file has 20/],
    ['bad JSON', () => handMade('{"w": {"dtype": "F32",', []), /not valid JSON/],
    ['header not an object', () => handMade('[1,2]', []), /must start with '\{'/],
    ['unknown dtype', () => handMade('{"w":{"dtype":"F31","shape":[1],"data_offsets":[0,4]}}', f32le([1])), /unknown dtype "F31"/],
    ['shape x dtype size != bytes', () => handMade('{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', f32le([1])), /needs 8 bytes, data_offsets give 4/],
    ['offsets out of range', () => handMade('{"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', f32le([1, 2])), /gap in the data|truncated/],
    ['overlapping offsets', () => handMade('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', f32le([1, 2])), /overlaps/],
    ['gap between tensors', () => handMade('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', f32le([1, 2, 3])), /gap in the data before tensor 'b'/],
    ['trailing bytes', () => handMade('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32le([1, 2])), /4 trailing bytes/],
    ['begin > end', () => handMade('{"a":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}}', f32le([1])), /data_offsets must be/],
    ['negative shape', () => handMade('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', f32le([1])), /shape must be an array of non-negative integers/],
    ['metadata not strings', () => handMade('{"__metadata__":{"epoch":3}}', []), /__metadata__.epoch must be a string/],
    ['unknown field', () => handMade('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4],"x":1}}', f32le([1])), /unknown field/],
    ['invalid UTF-8', () => handMade('{"a\xff":1}', []).map((v, i, a) => (i === 10 ? 0xff : v)), /UTF-8|JSON/],
  ];
  for (const [what, make, msg] of bad) {
    it(`refuses: ${what}, naming the file`, () => {
      const p = put(`bad-${what.replace(/\W+/g, '-')}.safetensors`, make());
      expect(() => readSafetensors(p)).toThrow(msg);
      expect(() => readSafetensors(p)).toThrow(p);
      expect(() => parseSafetensors(readFileSync(p), 'mem')).toThrow(msg);
    });
  }
});

describe('atomic writes', () => {
  it('a write that fails midway leaves the previous file intact and no temp file', () => {
    const p = join(dir, 'atomic.bin');
    writeFileAtomic(p, (fd) => writeFileSync(fd, 'first'));
    expect(readFileSync(p, 'utf8')).toBe('first');
    expect(() => writeFileAtomic(p, (fd) => {
      writeFileSync(fd, 'half of the sec');
      throw new Error('crash while writing');
    })).toThrow('crash while writing');
    expect(readFileSync(p, 'utf8')).toBe('first');
    expect(readdirSync(dir).filter((f) => f.includes('atomic.bin') && f !== 'atomic.bin')).toEqual([]);
    writeFileAtomic(p, (fd) => writeFileSync(fd, 'second'));
    expect(readFileSync(p, 'utf8')).toBe('second');
  });
});

describe('loadStateDict', () => {
  it('reports every missing, unexpected and wrong-shape name in one error, and writes nothing', () => {
    const m = vgg({ depth: 11, widthDivisor: 8 });
    try {
      const sd = stateDict(m);
      const before = Array.from(sd.get('net.0.weight')!.data as Float32Array);
      const broken = new Map(sd);
      broken.delete('net.3.bias');
      broken.delete('net.6.weight');
      broken.set('net.99.weight', { dtype: 'F32', shape: [1], data: Float32Array.of(1) });
      broken.set('net.0.weight', { dtype: 'F32', shape: [8, 3, 3, 2], data: new Float32Array(144).fill(5) });
      broken.set('net.0.bias', { dtype: 'F64', shape: [8], data: new Float64Array(8) });
      let err: StateDictError | null = null;
      try {
        loadStateDict(m, broken, { source: 'ckpt.safetensors' });
      } catch (e) {
        err = e as StateDictError;
      }
      expect(err).toBeInstanceOf(StateDictError);
      expect(err!.message).toMatch(/^ckpt\.safetensors: /);
      expect(err!.missing).toEqual(['net.3.bias', 'net.6.weight']);
      expect(err!.unexpected).toEqual(['net.99.weight']);
      expect(err!.mismatched).toEqual(['net.0.weight: checkpoint [8, 3, 3, 2], model [8, 3, 3, 3]', 'net.0.bias: dtype F64, expected F32']);
      expect(Array.from(stateDict(m).get('net.0.weight')!.data as Float32Array)).toEqual(before);
      // non-strict tolerates missing/unexpected names, never wrong shapes
      broken.set('net.0.weight', sd.get('net.0.weight')!);
      broken.set('net.0.bias', sd.get('net.0.bias')!);
      expect(loadStateDict(m, broken, { strict: false })).toEqual({ missing: ['net.3.bias', 'net.6.weight'], unexpected: ['net.99.weight'] });
    } finally {
      m.dispose();
    }
  });
});
