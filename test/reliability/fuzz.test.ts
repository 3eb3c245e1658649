// The short CI version of `npm run fuzz`: seeded malformed inputs to every parser of user files. Each must
// end in the parser's own error with a clear message, or in a result an independent decode agrees with;
// none may crash, hang, or allocate without bound. The long version (>= 10,000 per parser) is bench/fuzz.ts
// (`npm run fuzz`).
import { afterAll, describe, expect, it } from 'vitest';
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fuzzCifarReader, fuzzExtractor, fuzzSafetensors } from '../../bench/fuzz-targets.js';
import { fuzzImageLoader } from '../../bench/fuzz-images.js';
import { parseSafetensors, readSafetensors, SafetensorsError } from '../../lib/nn/safetensors.js';
import type { FuzzReport } from '../../bench/fuzz-mutate.js';

const tmp = mkdtempSync(join(tmpdir(), 'vgg-cifar-fuzz-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function expectClean(r: FuzzReport, n: number): void {
  expect(r.failures).toEqual([]);
  expect(r.inputs).toBe(n);
  // both outcomes occur, so the mutations neither always break nor never touch the format
  expect(r.refused).toBeGreaterThan(n / 4);
  expect(r.accepted).toBeGreaterThan(0);
  expect(r.maxRssMiB).toBeLessThan(1024);
}

describe('fuzzing the parsers of user files (CI size)', () => {
  it('safetensors loader: 1000 mutated files (header length, JSON, dtypes, shapes, overlapping and out-of-range offsets)', async () => {
    expectClean(await fuzzSafetensors(1000, 11, tmp), 1000);
  });

  it('CIFAR-10 reader: 500 mutated dataset folders (truncations, bit flips, bad labels, sparse terabyte files, bad class lists)', async () => {
    expectClean(await fuzzCifarReader(500, 12, tmp), 500);
  });

  it('archive extractor: 400 mutated archives (gzip and tar level, hostile headers); a refused archive leaves nothing behind', async () => {
    expectClean(await fuzzExtractor(400, 13, tmp), 400);
  });

  it('image loader behind predict: 400 mutated PNG and JPEG files (bit flips, truncations, lying dimensions)', async () => {
    expectClean(await fuzzImageLoader(400, 14, tmp), 400);
  });

  it('a safetensors header claiming 1 TB is refused before any allocation, in memory and on disk', () => {
    const b = new Uint8Array(64);
    new DataView(b.buffer).setBigUint64(0, 2n ** 40n, true);
    const before = process.memoryUsage().rss;
    expect(() => parseSafetensors(b, 'big.safetensors')).toThrow(/^big\.safetensors: not a valid safetensors file: header length 1099511627776 exceeds the 100000000-byte limit/);
    // a sparse file that really is larger than 1 TB, with a header claiming all of it
    const p = join(tmp, 'huge.safetensors');
    writeFileSync(p, b);
    const fd = openSync(p, 'r+');
    ftruncateSync(fd, 2 ** 40 + 16);
    closeSync(fd);
    expect(() => readSafetensors(p)).toThrow(SafetensorsError);
    expect(() => readSafetensors(p)).toThrow(/header length 1099511627776 exceeds/);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
  });

  it('a header that tiles a sparse 1 TB data region is refused with a clear error, not an allocation failure', () => {
    const header = Buffer.from(JSON.stringify({ w: { dtype: 'U8', shape: [2 ** 40], data_offsets: [0, 2 ** 40] } }).padEnd(64, ' '));
    const b = new Uint8Array(8 + header.length);
    new DataView(b.buffer).setBigUint64(0, BigInt(header.length), true);
    b.set(header, 8);
    const p = join(tmp, 'huge-data.safetensors');
    writeFileSync(p, b);
    const fd = openSync(p, 'r+');
    ftruncateSync(fd, b.length + 2 ** 40);
    closeSync(fd);
    const before = process.memoryUsage().rss;
    expect(() => readSafetensors(p)).toThrow(SafetensorsError);
    expect(() => readSafetensors(p)).toThrow(/tensor 'w'.*1099511627776 bytes/);
    expect(process.memoryUsage().rss - before).toBeLessThan(64 * 2 ** 20);
  });
});
