// Puts a split on the device that trains: images stay uint8 [N,3,32,32] (150 MB for the training set)
// and labels uint8 [N]; batches are cut and transformed there by the backend's data ops.
import type { Device } from '../backend.js';
import { fromUint8, type Tensor } from '../tensor.js';
import { CHANNELS, HEIGHT, IMAGE_BYTES, WIDTH } from './layout.js';
import type { Cifar10Split } from './reader.js';

/** A split resident on a device. */
export interface DeviceSplit {
  readonly device: Device;
  readonly count: number;
  /** uint8 [count, 3, 32, 32] */
  readonly images: Tensor;
  /** uint8 [count] */
  readonly labels: Tensor;
  /** Frees both tensors. */
  dispose(): void;
}

/** Copies a host split to `device` (one upload of the pixels, one of the labels). */
export function splitToDevice(split: Cifar10Split, device: Device): DeviceSplit {
  if (split.count <= 0) throw new RangeError('splitToDevice: the split is empty');
  if (split.images.length !== split.count * IMAGE_BYTES || split.labels.length !== split.count) {
    throw new RangeError(`splitToDevice: ${split.images.length} pixel bytes and ${split.labels.length} labels do not make ${split.count} images`);
  }
  const images = fromUint8(device, [split.count, CHANNELS, HEIGHT, WIDTH], split.images);
  let labels: Tensor;
  try {
    labels = fromUint8(device, [split.count], split.labels);
  } catch (e) {
    images.dispose();
    throw e;
  }
  return { device, count: split.count, images, labels, dispose() { images.dispose(); labels.dispose(); } };
}
