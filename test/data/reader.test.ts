// Reading the binary layout: exact round trip, every validation message, and the places data may be.
import { existsSync, mkdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Cifar10Error, classCounts, locateCifar10, readCifar10, readSplit } from '../../lib/data/index.js';
import { CLASSES, datasetFiles, officialEntries, tarGz, tempDir, writeDataset } from './fixtures.js';

const root = tempDir('reader');
afterAll(() => rmSync(root, { recursive: true, force: true }));

const data = datasetFiles(7);
let n = 0;
function fresh(): string {
  const dir = join(root, `case${n++}`, 'cifar-10-batches-bin');
  writeDataset(dir, data);
  return dir;
}

describe('readCifar10', () => {
  it('reads back the pixels and labels of every file exactly, in file order', async () => {
    const dir = fresh();
    const d = await readCifar10(join(dir, '..'));
    expect(d.dir).toBe(dir);
    expect(d.classes).toEqual(CLASSES);
    expect(d.train!.count).toBe(35);
    expect(d.test!.count).toBe(7);
    expect(Buffer.from(d.train!.images).equals(Buffer.from(data.train.images))).toBe(true);
    expect(Array.from(d.train!.labels)).toEqual(Array.from(data.train.labels));
    expect(Buffer.from(d.test!.images).equals(Buffer.from(data.test.images))).toBe(true);
    expect(Array.from(d.test!.labels)).toEqual(Array.from(data.test.labels));
    expect(classCounts(d.train!).reduce((a, b) => a + b)).toBe(35);
  });

  it('accepts the batches folder itself and reads only the splits asked for', async () => {
    const dir = fresh();
    const d = await readCifar10(dir, { splits: ['test'] });
    expect(d.train).toBeUndefined();
    expect(d.test!.count).toBe(7);
  });

  it('extracts the official archive next to itself on first use, and reuses it', async () => {
    const dir = join(root, `case${n++}`);
    mkdirSync(dir);
    const archive = join(dir, 'cifar-10-binary.tar.gz');
    writeFileSync(archive, tarGz(officialEntries(data)));
    const d = await readCifar10(archive);
    expect(d.dir).toBe(join(dir, 'cifar-10-batches-bin'));
    expect(Buffer.from(d.train!.images).equals(Buffer.from(data.train.images))).toBe(true);
    // a folder holding only the archive works too, and the extracted copy is reused
    expect(await locateCifar10(dir)).toBe(join(dir, 'cifar-10-batches-bin'));
  });

  it('names the file, its byte size and the record count it would be when the size is wrong', async () => {
    const dir = fresh();
    truncateSync(join(dir, 'data_batch_3.bin'), 7 * 3073 - 5);
    const err = await readCifar10(dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Cifar10Error);
    expect((err as Error).message).toBe(`CIFAR-10: ${join(dir, 'data_batch_3.bin')} has 21506 bytes, which would be 6 records ` +
      'of 3073 bytes (1 label + 3072 pixels) and 3068 bytes over; a batch file must hold a whole, non-zero number of records');
    truncateSync(join(dir, 'data_batch_3.bin'), 0);
    await expect(readCifar10(dir)).rejects.toThrow('has 0 bytes, which would be 0 records of 3073 bytes');
  });

  it('names the file and record index of a label outside 0-9', async () => {
    const dir = fresh();
    const bytes = Buffer.from(data.files.get('data_batch_2.bin')!);
    bytes[4 * 3073] = 10;
    writeFileSync(join(dir, 'data_batch_2.bin'), bytes);
    await expect(readSplit(dir, 'train')).rejects.toThrow(`CIFAR-10: ${join(dir, 'data_batch_2.bin')}: record 4 has label 10; labels must be 0-9`);
  });

  it('names every missing file and the folder searched', async () => {
    const dir = fresh();
    rmSync(join(dir, 'data_batch_5.bin'));
    rmSync(join(dir, 'test_batch.bin'));
    await expect(readCifar10(dir)).rejects.toThrow(`CIFAR-10: missing data_batch_5.bin, test_batch.bin in ${dir}`);
  });

  it('requires batches.meta.txt with ten class names', async () => {
    const dir = fresh();
    rmSync(join(dir, 'batches.meta.txt'));
    await expect(readCifar10(dir)).rejects.toThrow(`CIFAR-10: missing batches.meta.txt in ${dir}`);
    writeFileSync(join(dir, 'batches.meta.txt'), 'cat\ndog\n');
    await expect(readCifar10(dir)).rejects.toThrow(`CIFAR-10: ${join(dir, 'batches.meta.txt')} lists 2 class names, expected 10`);
  });

  it('says where it looked when a folder holds no data, and when the path does not exist', async () => {
    const empty = join(root, `case${n++}`);
    mkdirSync(empty);
    const err = (await readCifar10(empty).catch((e: unknown) => e)) as Cifar10Error;
    expect(err.code).toBe('missing');
    expect(err.message).toContain(`no data in ${empty}`);
    expect(err.message).toContain(join(empty, 'cifar-10-batches-bin'));
    expect(err.message).toContain(join(empty, 'cifar-10-binary.tar.gz'));
    await expect(readCifar10(join(empty, 'nope'))).rejects.toThrow(`CIFAR-10: ${join(empty, 'nope')} does not exist`);
    expect(existsSync(join(empty, 'cifar-10-batches-bin'))).toBe(false);
  });
});
