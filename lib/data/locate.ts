// Finds the folder of batch files from what the user pointed at: a folder holding cifar-10-batches-bin/,
// that folder itself, a folder holding the archive, or the archive (extracted next to itself once).
import { stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Cifar10Error } from './errors.js';
import { extractCifar10Archive } from './extract.js';
import { ARCHIVE_NAME, BATCHES_DIR, META_FILE, TEST_FILES, TRAIN_FILES } from './layout.js';

const isDir = async (p: string): Promise<boolean> => (await stat(p).catch(() => null))?.isDirectory() ?? false;
const isFile = async (p: string): Promise<boolean> => (await stat(p).catch(() => null))?.isFile() ?? false;

/** Where the user can put the data by hand (used in messages). */
export function manualInstructions(dir: string): string {
  return `download ${ARCHIVE_NAME} from https://www.cs.toronto.edu/~kriz/cifar.html and put it in ${dir} ` +
    `(or its extracted ${BATCHES_DIR}/ folder: ${join(dir, BATCHES_DIR)})`;
}

async function fromArchive(archive: string): Promise<string> {
  const dest = dirname(archive);
  const extracted = join(dest, BATCHES_DIR);
  if (await isDir(extracted)) return extracted;
  return extractCifar10Archive(archive, dest);
}

/** Resolves `source` to the folder that holds the batch files, extracting the archive when that is
 *  what is there. Throws naming the places searched when nothing is found. */
export async function locateCifar10(source: string): Promise<string> {
  const s = await stat(source).catch(() => null);
  if (!s) {
    throw new Cifar10Error('missing', `CIFAR-10: ${source} does not exist; ${manualInstructions(source)}, or use --download`);
  }
  if (s.isFile()) {
    if (!/\.(tar\.gz|tgz)$/.test(basename(source))) {
      throw new Cifar10Error('missing', `CIFAR-10: ${source} is a file but not a .tar.gz archive; give the folder of the data or ${ARCHIVE_NAME}`);
    }
    return fromArchive(source);
  }
  if (await isDir(join(source, BATCHES_DIR))) return join(source, BATCHES_DIR);
  for (const f of [...TRAIN_FILES, ...TEST_FILES, META_FILE]) {
    if (await isFile(join(source, f))) return source;
  }
  if (await isFile(join(source, ARCHIVE_NAME))) return fromArchive(join(source, ARCHIVE_NAME));
  throw new Cifar10Error('missing', `CIFAR-10: no data in ${source} (looked for ${join(source, BATCHES_DIR)}/, the batch files ` +
    `themselves, and ${join(source, ARCHIVE_NAME)}); use --download, or ${manualInstructions(source)}`);
}
