// Fetches the official archive into a temp file next to its destination, hashing while it streams, and
// renames it into place only once size, MD5 and SHA-256 match the published values. Any failure deletes
// the temp file and says what happened; no network means a message telling where to put the files by hand.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Cifar10Error } from './errors.js';
import { ARCHIVE_NAME, BATCHES_DIR, CIFAR10_ARCHIVE, CIFAR10_URL, URL_ENV, type ArchiveChecksum } from './layout.js';
import { terminalProgress, type DownloadProgress } from './progress.js';
import { checksumProblem, verifyFile } from './verify.js';

export interface DownloadOptions {
  /** Folder that receives cifar-10-binary.tar.gz (created when missing). */
  dir: string;
  /** Address of the archive; default $VGG_CIFAR_URL, else the University of Toronto's. */
  url?: string;
  /** Expected size and checksums (default: the official archive's). */
  checksum?: ArchiveChecksum;
  /** Progress callback; default a progress bar (or plain lines) on stderr; false for none. */
  onProgress?: ((p: DownloadProgress) => void) | false;
  /** Give up when the connection is silent this long (ms, default 30 s). */
  timeoutMs?: number;
  /** Redirects followed at most (default 5). */
  maxRedirects?: number;
}

export interface DownloadResult {
  /** Path of the verified archive. */
  path: string;
  /** False when a verified copy was already there (nothing fetched). */
  downloaded: boolean;
  url: string;
}

/** Error codes meaning the host could not be reached at all. */
export const OFFLINE_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ETIMEDOUT', 'ENETDOWN']);

function request(url: URL, timeoutMs: number, redirectsLeft: number): Promise<{ res: IncomingMessage; url: URL }> {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return Promise.reject(new Cifar10Error('download', `CIFAR-10: cannot download ${url.href}: only http and https addresses are supported`));
  }
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(url, { headers: { 'user-agent': 'vgg-cifar' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirectsLeft <= 0) {
          reject(new Cifar10Error('download', `CIFAR-10: too many redirects fetching ${url.href}`));
          return;
        }
        request(new URL(res.headers.location, url), timeoutMs, redirectsLeft - 1).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        reject(new Cifar10Error('download', `CIFAR-10: ${url.href} answered HTTP ${status} ${res.statusMessage ?? ''}`.trimEnd()));
        return;
      }
      resolve({ res, url });
    });
    req.setTimeout(timeoutMs, () => {
      req.destroy(Object.assign(new Error(`no data for ${timeoutMs / 1000} s`), { code: 'ETIMEDOUT' }));
    });
    req.on('error', reject);
  });
}

function offlineError(url: string, dir: string, e: NodeJS.ErrnoException): Cifar10Error {
  const host = new URL(url).host;
  return new Cifar10Error('offline', `CIFAR-10: cannot reach ${host} (${e.code}: ${e.message}); this machine seems to be offline ` +
    `or the address is blocked. To install by hand: on a machine with network, download ${url} and copy it to ` +
    `${join(dir, ARCHIVE_NAME)} (or extract it there, giving ${join(dir, BATCHES_DIR)}/); then run again ` +
    `(or set ${URL_ENV} to a mirror).`, { cause: e });
}

/** Downloads and verifies the CIFAR-10 binary archive into `dir`, unless a verified copy is already there. */
export async function downloadCifar10(options: DownloadOptions): Promise<DownloadResult> {
  const url = options.url ?? process.env[URL_ENV] ?? CIFAR10_URL;
  const expected = options.checksum ?? CIFAR10_ARCHIVE;
  const path = join(options.dir, ARCHIVE_NAME);
  await mkdir(options.dir, { recursive: true });
  if ((await verifyFile(path, expected)) === null) return { path, downloaded: false, url };

  const sink = options.onProgress === undefined ? terminalProgress() : null;
  const report = options.onProgress === false ? null : options.onProgress ?? ((p: DownloadProgress) => sink!.update(p));
  const timeoutMs = options.timeoutMs ?? 30_000;
  let got: { res: IncomingMessage; url: URL };
  try {
    got = await request(new URL(url), timeoutMs, options.maxRedirects ?? 5);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code && OFFLINE_CODES.has(err.code)) throw offlineError(url, options.dir, err);
    if (e instanceof Cifar10Error) throw e;
    throw new Cifar10Error('download', `CIFAR-10: cannot download ${url}: ${err.message}`, { cause: e });
  }

  const tmp = join(options.dir, `.${ARCHIVE_NAME}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  const header = Number(got.res.headers['content-length']);
  const total = Number.isFinite(header) && header > 0 ? header : expected.size;
  const start = Date.now();
  let received = 0;
  let lastReport = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      if (received > expected.size) {
        done(new Error(`received more than the expected ${expected.size} bytes`));
        return;
      }
      md5.update(chunk);
      sha.update(chunk);
      const now = Date.now();
      if (report && (now - lastReport >= 100 || received === total)) {
        lastReport = now;
        report({ received, total, bytesPerSecond: received / Math.max((now - start) / 1000, 1e-3) });
      }
      done(null, chunk);
    },
  });
  try {
    try {
      await pipeline(got.res, tap, createWriteStream(tmp, { flags: 'wx' }));
    } catch (e) {
      throw new Cifar10Error('download', `CIFAR-10: download of ${got.url.href} failed after ${received} of ${total} bytes ` +
        `(${(e as Error).message === 'aborted' ? 'the server closed the connection early' : (e as Error).message}); the partial file was deleted`, { cause: e });
    }
    const problem = checksumProblem({ size: received, md5: md5.digest('hex'), sha256: sha.digest('hex') }, expected);
    if (problem) {
      throw new Cifar10Error('checksum', `CIFAR-10: the file downloaded from ${got.url.href} is not the expected archive: its ${problem}` +
        `${received < expected.size ? ' (the transfer ended early)' : ''}; it was deleted`);
    }
    await rename(tmp, path);
    return { path, downloaded: true, url: got.url.href };
  } finally {
    sink?.stop();
    await rm(tmp, { force: true });
  }
}
