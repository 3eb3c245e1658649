// Horizontal mirror of every image of a split, for flip test-time augmentation. Done once on the host
// (uint8, exact) and uploaded beside the split: the backends' flip is the random one of augmentation,
// and mirroring the uint8 pixels before scaling and normalization equals mirroring the float batch.
import { CHANNELS, HEIGHT, IMAGE_BYTES, WIDTH } from './layout.js';
import type { Cifar10Split } from './reader.js';

/** Mirrors `count` planar [3, 32, 32] uint8 images left-right into a new array. */
export function mirrorPixels(images: Uint8Array, count: number): Uint8Array {
  if (images.length !== count * IMAGE_BYTES) {
    throw new RangeError(`mirrorPixels: ${images.length} bytes do not make ${count} images of ${IMAGE_BYTES} bytes`);
  }
  const out = new Uint8Array(images.length);
  for (let row = 0; row < count * CHANNELS * HEIGHT; row++) {
    const at = row * WIDTH;
    for (let x = 0; x < WIDTH; x++) out[at + x] = images[at + WIDTH - 1 - x];
  }
  return out;
}

/** The same split with every image mirrored left-right (labels shared). */
export function mirroredSplit(split: Cifar10Split): Cifar10Split {
  return { count: split.count, images: mirrorPixels(split.images, split.count), labels: split.labels };
}
