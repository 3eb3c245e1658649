// Extraction: the official layout goes through; hostile or foreign entries refuse the whole archive,
// nothing is written outside the target (nor inside), and no temp folder is left behind.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Cifar10Error, entryProblem, extractCifar10Archive } from '../../lib/data/index.js';
import { datasetFiles, officialEntries, tarGz, tempDir, type TarEntry } from './fixtures.js';

const root = tempDir('extract');
afterAll(() => rmSync(root, { recursive: true, force: true }));
const data = datasetFiles(2);
let n = 0;

/** Writes an archive into root/caseN/dest/ and returns [archive path, dest]. */
function archiveWith(entries: TarEntry[]): [string, string] {
  const dest = join(root, `case${n++}`, 'dest');
  mkdirSync(dest, { recursive: true });
  const archive = join(dest, 'cifar-10-binary.tar.gz');
  writeFileSync(archive, tarGz(entries));
  return [archive, dest];
}

describe('extractCifar10Archive', () => {
  it('extracts the official layout byte for byte and leaves no temp folder', async () => {
    const [archive, dest] = archiveWith(officialEntries(data));
    const out = await extractCifar10Archive(archive, dest);
    expect(out).toBe(join(dest, 'cifar-10-batches-bin'));
    for (const [name, bytes] of data.files) expect(readFileSync(join(out, name)).equals(bytes)).toBe(true);
    expect(readdirSync(dest).sort()).toEqual(['cifar-10-batches-bin', 'cifar-10-binary.tar.gz']);
    await expect(extractCifar10Archive(archive, dest)).rejects.toThrow('already exists');
  });

  const hostile: [string, TarEntry, string][] = [
    ['a path with ..', { name: 'cifar-10-batches-bin/../../escaped.txt', data: Buffer.from('x') }, "path with '..'"],
    ['a leading ..', { name: '../escaped.txt', data: Buffer.from('x') }, "path with '..'"],
    ['an absolute path', { name: `${root}/abs-escaped.txt`, data: Buffer.from('x') }, 'absolute path'],
    ['a symbolic link', { name: 'cifar-10-batches-bin/data_batch_1.bin', type: 'symlink', link: '/etc/passwd' }, 'symbolic link'],
    ['a hard link', { name: 'cifar-10-batches-bin/readme.html', type: 'hardlink', link: '/etc/passwd' }, 'hard link'],
    ['a device', { name: 'cifar-10-batches-bin/readme.html', type: 'chardev' }, 'entry of type CharacterDevice'],
    ['a foreign file', { name: 'cifar-10-batches-bin/evil.sh', data: Buffer.from('x') }, 'file outside the expected layout'],
    ['a foreign folder', { name: 'other/', type: 'dir' }, 'folder outside the expected layout'],
  ];
  for (const [what, entry, problem] of hostile) {
    it(`refuses an archive holding ${what}, writing nothing`, async () => {
      // the hostile entry comes first and again last, around an otherwise valid archive
      const [archive, dest] = archiveWith([entry, ...officialEntries(data), entry]);
      const err = (await extractCifar10Archive(archive, dest).catch((e: unknown) => e)) as Cifar10Error;
      expect(err).toBeInstanceOf(Cifar10Error);
      expect(err.code).toBe('unsafe-archive');
      expect(err.message).toContain(`${JSON.stringify(entry.name)} (${problem})`);
      expect(err.message).toContain('Nothing was extracted');
      expect(readdirSync(dest)).toEqual(['cifar-10-binary.tar.gz']);
      expect(readdirSync(join(dest, '..'))).toEqual(['dest']);
      expect(existsSync(join(root, 'escaped.txt')) || existsSync(join(root, 'abs-escaped.txt'))).toBe(false);
    });
  }

  it('refuses an archive that lacks a batch file, and one that is not gzip', async () => {
    const entries = officialEntries(data).filter((e) => !e.name.endsWith('test_batch.bin'));
    const [archive, dest] = archiveWith(entries);
    await expect(extractCifar10Archive(archive, dest)).rejects.toThrow(/is incomplete: CIFAR-10: missing test_batch.bin/);
    expect(readdirSync(dest)).toEqual(['cifar-10-binary.tar.gz']);
    writeFileSync(archive, Buffer.from('this is not an archive'));
    await expect(extractCifar10Archive(archive, dest)).rejects.toThrow('is not a readable tar.gz archive');
    expect(readdirSync(dest)).toEqual(['cifar-10-binary.tar.gz']);
  });

  it('classifies entry paths', () => {
    expect(entryProblem('cifar-10-batches-bin/data_batch_1.bin', 'File')).toBeNull();
    expect(entryProblem('./cifar-10-batches-bin/test_batch.bin', 'File')).toBeNull();
    expect(entryProblem('cifar-10-batches-bin/', 'Directory')).toBeNull();
    expect(entryProblem('C:/x', 'File')).toBe('absolute path');
    expect(entryProblem('cifar-10-batches-bin\\..\\x', 'File')).toBe('path with a backslash');
    expect(entryProblem('cifar-10-batches-bin/fifo', 'FIFO')).toBe('entry of type FIFO');
    expect(entryProblem('cifar-10-batches-bin/data_batch_1.bin', 'File', 30_730_000)).toBeNull();
    expect(entryProblem('cifar-10-batches-bin/data_batch_1.bin', 'File', 2 ** 40)).toBe(`file of ${2 ** 40} bytes, more than any file of the layout`);
  });
});
