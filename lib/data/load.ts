// The one-call reader: locate (and extract when needed), check every file is present, read the class
// names and the splits asked for, then cut subsets.
import { Cifar10Error } from './errors.js';
import { META_FILE, splitFiles, type SplitName } from './layout.js';
import { locateCifar10 } from './locate.js';
import { readClassNames, readSplit, requireFiles, type Cifar10Split } from './reader.js';
import { subset, type SubsetSpec } from './subset.js';

export interface ReadCifar10Options {
  /** Splits to read (default both). */
  splits?: readonly SplitName[];
  /** Keep only part of the training split. */
  trainSubset?: SubsetSpec;
  /** Keep only part of the test split. */
  testSubset?: SubsetSpec;
}

export interface Cifar10Data {
  /** The folder the batch files were read from. */
  dir: string;
  /** Class names from batches.meta.txt, index = label. */
  classes: string[];
  /** Present when read (see `splits`). */
  train?: Cifar10Split;
  test?: Cifar10Split;
}

/** Reads CIFAR-10 from `source`: a folder holding cifar-10-batches-bin/, that folder, or the official
 *  archive cifar-10-binary.tar.gz (extracted next to itself on first use). */
export async function readCifar10(source: string, options: ReadCifar10Options = {}): Promise<Cifar10Data> {
  const splits = options.splits ?? ['train', 'test'];
  for (const s of splits) if (s !== 'train' && s !== 'test') throw new RangeError(`readCifar10: unknown split '${String(s)}'`);
  if (splits.length === 0) throw new Cifar10Error('missing', 'readCifar10: no split asked for');
  const dir = await locateCifar10(source);
  await requireFiles(dir, [...splits.flatMap((s) => splitFiles(s)), META_FILE]);
  const classes = await readClassNames(dir);
  const data: Cifar10Data = { dir, classes };
  if (splits.includes('train')) {
    const train = await readSplit(dir, 'train');
    data.train = options.trainSubset ? subset(train, options.trainSubset) : train;
  }
  if (splits.includes('test')) {
    const test = await readSplit(dir, 'test');
    data.test = options.testSubset ? subset(test, options.testSubset) : test;
  }
  return data;
}
