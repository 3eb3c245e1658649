// Smaller splits for quick runs and tests: the first N records, or N records of each class chosen with
// a seeded shuffle (kept in their original order, so a subset of a subset stays predictable).
import { Cifar10Error } from './errors.js';
import { IMAGE_BYTES, NUM_CLASSES } from './layout.js';
import type { Cifar10Split } from './reader.js';
import { permutation } from './rng.js';

export type SubsetSpec =
  /** The first `first` records, in file order. */
  | { first: number }
  /** `perClass` records of every class, picked at random with `seed` (default 0). */
  | { perClass: number; seed?: number };

/** Copies the records at `indices` (in that order) into a new split. */
export function selectRecords(split: Cifar10Split, indices: ArrayLike<number>): Cifar10Split {
  const count = indices.length;
  const images = new Uint8Array(count * IMAGE_BYTES);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const j = indices[i];
    if (!(Number.isInteger(j) && j >= 0 && j < split.count)) throw new RangeError(`selectRecords: index ${j} at ${i} is outside [0, ${split.count})`);
    labels[i] = split.labels[j];
    images.set(split.images.subarray(j * IMAGE_BYTES, (j + 1) * IMAGE_BYTES), i * IMAGE_BYTES);
  }
  return { count, images, labels };
}

function checkCount(what: string, n: number): void {
  if (!(Number.isInteger(n) && n > 0)) throw new RangeError(`subset: ${what} must be a positive integer, got ${n}`);
}

/** The records `spec` selects, as indices into `split` in ascending order. */
export function subsetIndices(split: Cifar10Split, spec: SubsetSpec): Int32Array {
  if ('first' in spec) {
    checkCount('first', spec.first);
    if (spec.first > split.count) throw new Cifar10Error('missing', `subset: asked for the first ${spec.first} records, the split holds ${split.count}`);
    return Int32Array.from({ length: spec.first }, (_, i) => i);
  }
  checkCount('perClass', spec.perClass);
  const order = permutation(split.count, (spec.seed ?? 0) >>> 0);
  const taken = new Array<number>(NUM_CLASSES).fill(0);
  const picked: number[] = [];
  for (let k = 0; k < order.length && picked.length < spec.perClass * NUM_CLASSES; k++) {
    const i = order[k];
    const c = split.labels[i];
    if (taken[c] < spec.perClass) {
      taken[c]++;
      picked.push(i);
    }
  }
  const short = taken.map((n, c) => [c, n]).filter(([, n]) => n < spec.perClass);
  if (short.length > 0) {
    throw new Cifar10Error('missing', `subset: asked for ${spec.perClass} per class; the split has only ` +
      short.map(([c, n]) => `${n} of class ${c}`).join(', '));
  }
  return Int32Array.from(picked.sort((a, b) => a - b));
}

/** A new split holding the records `spec` selects. */
export function subset(split: Cifar10Split, spec: SubsetSpec): Cifar10Split {
  return selectRecords(split, subsetIndices(split, spec));
}
