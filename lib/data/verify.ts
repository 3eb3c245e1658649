// Size and checksums of a file against the published values.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { ArchiveChecksum } from './layout.js';

/** Why `got` does not match `expected`, or null when it does. */
export function checksumProblem(got: ArchiveChecksum, expected: ArchiveChecksum): string | null {
  if (got.size !== expected.size) return `size is ${got.size} bytes, expected ${expected.size}`;
  if (got.md5 !== expected.md5.toLowerCase()) return `MD5 is ${got.md5}, expected ${expected.md5}`;
  if (got.sha256 !== expected.sha256.toLowerCase()) return `SHA-256 is ${got.sha256}, expected ${expected.sha256}`;
  return null;
}

/** Size, MD5 and SHA-256 of a file (one streaming pass). */
export async function checksumFile(path: string): Promise<ArchiveChecksum> {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    md5.update(chunk as Buffer);
    sha.update(chunk as Buffer);
  }
  return { size: (await stat(path)).size, md5: md5.digest('hex'), sha256: sha.digest('hex') };
}

/** Null when the file at `path` matches `expected`; otherwise what differs (or that it is absent). */
export async function verifyFile(path: string, expected: ArchiveChecksum): Promise<string | null> {
  const s = await stat(path).catch(() => null);
  if (!s?.isFile()) return 'absent';
  if (s.size !== expected.size) return `size is ${s.size} bytes, expected ${expected.size}`;
  return checksumProblem(await checksumFile(path), expected);
}
