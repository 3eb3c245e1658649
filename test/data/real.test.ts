// The real CIFAR-10 copy (../shared/cifar10 turned into the official binary layout by make-binary.sh,
// cached in the OS temp folder): 5,000 images per class in training and 1,000 in test, and the
// official-shaped archive passes the extraction checks. Skipped, saying why, when the copy is absent.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/backend.js';
import { classCounts, extractCifar10Archive, readCifar10, type Cifar10Data } from '../../lib/data/index.js';
import { realCifarCopy, sharedCifarDir } from '../../bench/real-cifar.js';
import { CLASSES, tempDir } from './fixtures.js';

const root = packageRoot();
const shared = sharedCifarDir(root);
if (!shared) {
  console.warn(`real CIFAR-10 test skipped: no shared copy at ${join(root, '..', 'shared', 'cifar10')} (nor $VGG_CIFAR_SHARED_DATA)`);
}

describe.skipIf(!shared)('real CIFAR-10 copy', () => {
  let dir = '';
  let data: Cifar10Data;
  const scratch = tempDir('real');
  beforeAll(async () => {
    dir = realCifarCopy(root)!;
    data = await readCifar10(dir);
  }, 300_000);
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  it('has 5,000 images per class in training and 1,000 in test, and the ten class names', () => {
    expect(data.classes).toEqual(CLASSES);
    expect(data.train!.count).toBe(50_000);
    expect(data.test!.count).toBe(10_000);
    expect(classCounts(data.train!)).toEqual(new Array(10).fill(5_000));
    expect(classCounts(data.test!)).toEqual(new Array(10).fill(1_000));
    // real photographs: pixel values spread over the range, not constant
    const px = data.test!.images;
    let sum = 0;
    for (let i = 0; i < px.length; i += 97) sum += px[i];
    const mean = sum / Math.ceil(px.length / 97) / 255;
    expect(mean).toBeGreaterThan(0.35);
    expect(mean).toBeLessThan(0.6);
  });

  it('its official-shaped archive passes the extraction checks and gives the same files', async () => {
    const out = await extractCifar10Archive(join(dir, 'cifar-10-binary.tar.gz'), scratch);
    expect(readFileSync(join(out, 'test_batch.bin')).equals(readFileSync(join(dir, 'cifar-10-batches-bin', 'test_batch.bin')))).toBe(true);
  }, 120_000);
});
