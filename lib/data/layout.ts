// The official CIFAR-10 binary release: file names, record layout, the published archive and its checksums,
// and the per-channel statistics used to normalize it.

/** Folder inside the archive (and on disk) that holds the batches. */
export const BATCHES_DIR = 'cifar-10-batches-bin';
/** File name of the official archive. */
export const ARCHIVE_NAME = 'cifar-10-binary.tar.gz';
export const TRAIN_FILES = ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin'] as const;
export const TEST_FILES = ['test_batch.bin'] as const;
export const META_FILE = 'batches.meta.txt';
/** Files the official archive carries besides the batches (allowed, not needed). */
export const OPTIONAL_FILES = ['readme.html'] as const;

export const CHANNELS = 3;
export const HEIGHT = 32;
export const WIDTH = 32;
export const NUM_CLASSES = 10;
/** Pixel bytes per image: 1024 R, then 1024 G, then 1024 B, each row-major 32x32. */
export const IMAGE_BYTES = CHANNELS * HEIGHT * WIDTH;
/** One label byte followed by the image. */
export const RECORD_BYTES = 1 + IMAGE_BYTES;

/** The University of Toronto address of the official archive. */
export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
/** Environment variable that overrides the download address (for mirrors). */
export const URL_ENV = 'VGG_CIFAR_URL';

/** Size and published checksums of the official archive. */
export interface ArchiveChecksum { size: number; md5: string; sha256: string; }
export const CIFAR10_ARCHIVE: Readonly<ArchiveChecksum> = Object.freeze({
  size: 170_052_171,
  md5: 'c32a1d4ab5d03f1284b67883e8d87530',
  sha256: 'c4a38c50a1bc5f3a1c5537f2155ab9d68f9f25eb1ed8d9ddda3db29a59bca1dd',
});

/** Per-channel mean and std of the CIFAR-10 training set (after scaling to [0,1]), RGB order. */
export const CIFAR10_MEAN: readonly number[] = Object.freeze([0.4914, 0.4822, 0.4465]);
export const CIFAR10_STD: readonly number[] = Object.freeze([0.2470, 0.2435, 0.2616]);

export type SplitName = 'train' | 'test';

/** Files of one split, in the order their records are concatenated. */
export function splitFiles(split: SplitName): readonly string[] {
  return split === 'train' ? TRAIN_FILES : TEST_FILES;
}
