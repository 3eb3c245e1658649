// Safe extraction of the CIFAR-10 archive. Every entry is checked before anything is written: only
// regular files and the one folder of the official layout are accepted; absolute paths, '..', links,
// devices and unknown names are refused (the whole archive then is). Extraction goes to a hidden temp
// folder next to the target and is renamed into place only when complete, so an interrupted run leaves
// nothing that looks like a finished dataset.
import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import { Cifar10Error } from './errors.js';
import { BATCHES_DIR, META_FILE, OPTIONAL_FILES, TEST_FILES, TRAIN_FILES } from './layout.js';
import { requireFiles } from './reader.js';

const REQUIRED_FILES: readonly string[] = [...TRAIN_FILES, ...TEST_FILES, META_FILE];
const ALLOWED_FILES = new Set<string>([...REQUIRED_FILES, ...OPTIONAL_FILES]);
const FILE_TYPES = new Set(['File', 'OldFile', 'ContiguousFile']);
/** No file of the layout comes near this (a batch is 30,730,000 bytes): a larger entry would only fill the disk. */
export const MAX_ENTRY_BYTES = 64 * 2 ** 20;

/** Why an archive entry is refused, or null when it belongs to the official layout. */
export function entryProblem(path: string, type: string, size = 0): string | null {
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'absolute path';
  if (path.includes('\\')) return 'path with a backslash';
  const parts = path.split('/').filter((s) => s !== '' && s !== '.');
  if (parts.includes('..')) return "path with '..'";
  if (type === 'SymbolicLink') return 'symbolic link';
  if (type === 'Link') return 'hard link';
  if (type === 'Directory') return parts.length === 1 && parts[0] === BATCHES_DIR ? null : 'folder outside the expected layout';
  if (!FILE_TYPES.has(type)) return `entry of type ${type}`;
  if (parts.length !== 2 || parts[0] !== BATCHES_DIR || !ALLOWED_FILES.has(parts[1])) return 'file outside the expected layout';
  if (size > MAX_ENTRY_BYTES) return `file of ${size} bytes, more than any file of the layout`;
  return null;
}

/** Extracts `archive` (the official cifar-10-binary.tar.gz layout) into `destDir`, returning the path of
 *  destDir/cifar-10-batches-bin. Throws (and writes nothing) when the archive holds a refused entry, lacks
 *  a file of the layout, or is not a readable tar.gz; throws when the target folder already exists. */
export async function extractCifar10Archive(archive: string, destDir: string): Promise<string> {
  const target = join(destDir, BATCHES_DIR);
  if (await stat(target).catch(() => null)) {
    throw new Cifar10Error('malformed', `CIFAR-10: ${target} already exists; remove it to extract ${archive} again`);
  }
  const tmp = await mkdtemp(join(destDir, '.cifar-10-extract-'));
  try {
    const refused: string[] = [];
    try {
      await tar.x({
        file: archive,
        cwd: tmp,
        strict: true,
        preserveOwner: false,
        filter: (path, entry) => {
          const type = 'type' in entry ? String(entry.type) : 'File';
          const problem = entryProblem(path, type, 'size' in entry ? Number(entry.size) : 0);
          if (problem) refused.push(`${JSON.stringify(path)} (${problem})`);
          return problem === null && refused.length === 0;
        },
      });
    } catch (e) {
      throw new Cifar10Error('malformed', `CIFAR-10: ${archive} is not a readable tar.gz archive: ${(e as Error).message}`, { cause: e });
    }
    if (refused.length > 0) {
      const shown = refused.slice(0, 5).join(', ') + (refused.length > 5 ? `, and ${refused.length - 5} more` : '');
      throw new Cifar10Error('unsafe-archive', `CIFAR-10: refused to extract ${archive}: it holds ${refused.length} ` +
        `entr${refused.length === 1 ? 'y' : 'ies'} outside the official layout (${BATCHES_DIR}/ with the batch files): ${shown}. Nothing was extracted.`);
    }
    try {
      await requireFiles(join(tmp, BATCHES_DIR), REQUIRED_FILES);
    } catch (e) {
      throw new Cifar10Error('malformed', `CIFAR-10: ${archive} is incomplete: ${(e as Error).message.replace(tmp, '<archive>')}`, { cause: e });
    }
    await rename(join(tmp, BATCHES_DIR), target);
    return target;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
