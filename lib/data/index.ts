// CIFAR-10 for vgg-cifar: read, verify, download, extract, subset, put on a device, and batch.
export { Cifar10Error, type Cifar10ErrorCode } from './errors.js';
export {
  ARCHIVE_NAME, BATCHES_DIR, CHANNELS, CIFAR10_ARCHIVE, CIFAR10_MEAN, CIFAR10_STD, CIFAR10_URL, HEIGHT, IMAGE_BYTES,
  META_FILE, NUM_CLASSES, RECORD_BYTES, TEST_FILES, TRAIN_FILES, URL_ENV, WIDTH, splitFiles,
  type ArchiveChecksum, type SplitName,
} from './layout.js';
export { classCounts, readClassNames, readSplit, recordCount, requireFiles, type Cifar10Split } from './reader.js';
export { selectRecords, subset, subsetIndices, type SubsetSpec } from './subset.js';
export { locateCifar10, manualInstructions } from './locate.js';
export { readCifar10, type Cifar10Data, type ReadCifar10Options } from './load.js';
export { prepareCifar10, type PrepareCifar10Options } from './prepare.js';
export { entryProblem, extractCifar10Archive } from './extract.js';
export { downloadCifar10, OFFLINE_CODES, type DownloadOptions, type DownloadResult } from './download.js';
export { terminalProgress, type DownloadProgress, type ProgressSink } from './progress.js';
export { checksumFile, checksumProblem, verifyFile } from './verify.js';
export { splitToDevice, type DeviceSplit } from './device.js';
export { mirroredSplit, mirrorPixels } from './mirror.js';
export { BatchLoader, evalBatches, trainBatches, type Batch, type BatchLoaderOptions, type PreparedBatch } from './batches.js';
export { Rng, deriveSeed, permutation, shuffleInPlace } from './rng.js';
