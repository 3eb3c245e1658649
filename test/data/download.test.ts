// downloadCifar10 against a local HTTP server on 127.0.0.1 serving small archives built here: verified
// and moved into place, corrupted/truncated refused with nothing left, redirects followed, an existing
// verified copy not fetched again, unreachable hosts reported as offline with the manual instructions.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cifar10Error, downloadCifar10, prepareCifar10, terminalProgress, type ArchiveChecksum, type DownloadProgress } from '../../lib/data/index.js';
import { datasetFiles, officialEntries, tarGz, tempDir } from './fixtures.js';

const root = tempDir('download');
const data = datasetFiles(3);
const good = tarGz(officialEntries(data));
const checksum: ArchiveChecksum = {
  size: good.length,
  md5: createHash('md5').update(good).digest('hex'),
  sha256: createHash('sha256').update(good).digest('hex'),
};
const corrupt = Buffer.from(good);
corrupt[corrupt.length >> 1] ^= 0xff;
const requests = new Map<string, number>();
let server: http.Server;
let base = '';

beforeAll(async () => {
  server = http.createServer((req, res) => {
    requests.set(req.url!, (requests.get(req.url!) ?? 0) + 1);
    const send = (body: Buffer) => { res.writeHead(200, { 'content-length': body.length }); res.end(body); };
    switch (req.url) {
      case '/good.tar.gz': return send(good);
      case '/corrupt.tar.gz': return send(corrupt);
      case '/redirect': res.writeHead(302, { location: '/good.tar.gz' }); return res.end();
      case '/truncated':
        res.writeHead(200, { 'content-length': good.length });
        res.write(good.subarray(0, good.length >> 1), () => setTimeout(() => res.socket?.destroy(), 20));
        return;
      case '/stall':
        res.writeHead(200, { 'content-length': good.length });
        res.write(good.subarray(0, 100));
        return; // never finishes
      case '/silent': return; // accepts, never answers
      default: res.writeHead(404); res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(root, { recursive: true, force: true });
});

let n = 0;
const dir = () => join(root, `case${n++}`);

describe('downloadCifar10', () => {
  it('downloads, verifies, moves into place, reports progress; a verified copy is not fetched again', async () => {
    const d = dir();
    const seen: DownloadProgress[] = [];
    const r = await downloadCifar10({ dir: d, url: `${base}/good.tar.gz`, checksum, onProgress: (p) => seen.push(p) });
    expect(r).toEqual({ path: join(d, 'cifar-10-binary.tar.gz'), downloaded: true, url: `${base}/good.tar.gz` });
    expect(readFileSync(r.path).equals(good)).toBe(true);
    expect(readdirSync(d)).toEqual(['cifar-10-binary.tar.gz']);
    expect(seen.at(-1)).toMatchObject({ received: good.length, total: good.length });
    expect(seen.at(-1)!.bytesPerSecond).toBeGreaterThan(0);
    const before = requests.get('/good.tar.gz');
    const again = await downloadCifar10({ dir: d, url: `${base}/good.tar.gz`, checksum, onProgress: false });
    expect(again.downloaded).toBe(false);
    expect(requests.get('/good.tar.gz')).toBe(before);
  });

  it('follows redirects, and takes the address from VGG_CIFAR_URL', async () => {
    const d = dir();
    process.env.VGG_CIFAR_URL = `${base}/redirect`;
    try {
      const r = await downloadCifar10({ dir: d, checksum, onProgress: false });
      expect(r.url).toBe(`${base}/good.tar.gz`);
      expect(readFileSync(r.path).equals(good)).toBe(true);
    } finally {
      delete process.env.VGG_CIFAR_URL;
    }
  });

  it('replaces an existing copy that fails verification', async () => {
    const d = dir();
    await downloadCifar10({ dir: d, url: `${base}/good.tar.gz`, checksum, onProgress: false });
    writeFileSync(join(d, 'cifar-10-binary.tar.gz'), corrupt);
    const r = await downloadCifar10({ dir: d, url: `${base}/good.tar.gz`, checksum, onProgress: false });
    expect(r.downloaded).toBe(true);
    expect(readFileSync(r.path).equals(good)).toBe(true);
  });

  it('refuses a corrupted archive (checksum mismatch) and leaves no file', async () => {
    const d = dir();
    const err = (await downloadCifar10({ dir: d, url: `${base}/corrupt.tar.gz`, checksum, onProgress: false }).catch((e: unknown) => e)) as Cifar10Error;
    expect(err.code).toBe('checksum');
    expect(err.message).toContain(`MD5 is ${createHash('md5').update(corrupt).digest('hex')}, expected ${checksum.md5}`);
    expect(err.message).toContain('it was deleted');
    expect(readdirSync(d)).toEqual([]);
  });

  it('refuses a truncated transfer and leaves no file', async () => {
    const d = dir();
    const err = (await downloadCifar10({ dir: d, url: `${base}/truncated`, checksum, onProgress: false }).catch((e: unknown) => e)) as Cifar10Error;
    expect(err).toBeInstanceOf(Cifar10Error);
    expect(err.message).toMatch(new RegExp(`failed after \\d+ of ${good.length} bytes \\(the server closed the connection early\\); the partial file was deleted`));
    expect(readdirSync(d)).toEqual([]);
  });

  it('gives up on a stalled transfer after the timeout and leaves no file', async () => {
    const d = dir();
    const err = (await downloadCifar10({ dir: d, url: `${base}/stall`, checksum, onProgress: false, timeoutMs: 300 }).catch((e: unknown) => e)) as Cifar10Error;
    expect(err.code).toBe('download');
    expect(err.message).toContain('failed after 100 of');
    expect(readdirSync(d)).toEqual([]);
  });

  it('treats a host that never answers as unreachable (timeout)', async () => {
    const d = dir();
    const err = (await downloadCifar10({ dir: d, url: `${base}/silent`, checksum, onProgress: false, timeoutMs: 300 }).catch((e: unknown) => e)) as Cifar10Error;
    expect(err.code).toBe('offline');
    expect(err.message).toContain('(ETIMEDOUT: no data for 0.3 s); this machine seems to be offline');
    expect(readdirSync(d)).toEqual([]);
  });

  it('reports HTTP errors', async () => {
    const d = dir();
    await expect(downloadCifar10({ dir: d, url: `${base}/missing`, checksum, onProgress: false })).rejects.toThrow(`${base}/missing answered HTTP 404`);
    expect(readdirSync(d)).toEqual([]);
  });

  it('says it is offline and where to put the files when the host cannot be reached', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const d = dir();
    const err = (await downloadCifar10({ dir: d, url: `http://127.0.0.1:${port}/x.tar.gz`, checksum, onProgress: false }).catch((e: unknown) => e)) as Cifar10Error;
    expect(err.code).toBe('offline');
    expect(err.message).toContain(`cannot reach 127.0.0.1:${port} (ECONNREFUSED`);
    expect(err.message).toContain('seems to be offline');
    expect(err.message).toContain(`copy it to ${join(d, 'cifar-10-binary.tar.gz')}`);
    expect(err.message).toContain(join(d, 'cifar-10-batches-bin'));
    expect(readdirSync(d)).toEqual([]);
  });

  it('prepareCifar10 downloads when asked and nothing is there, then reads the data', async () => {
    const d = dir();
    const got = await prepareCifar10(d, { download: true, downloadOptions: { url: `${base}/good.tar.gz`, checksum, onProgress: false } });
    expect(got.train!.count).toBe(15);
    expect(Buffer.from(got.test!.images).equals(Buffer.from(data.test.images))).toBe(true);
    expect(existsSync(join(d, 'cifar-10-batches-bin', 'test_batch.bin'))).toBe(true);
  });
});

describe('terminalProgress', () => {
  it('writes plain lines every 10% with bytes and rate when the stream is not a TTY', () => {
    const lines: string[] = [];
    const stream = { isTTY: false, write: (s: string) => { lines.push(s); return true; } } as unknown as NodeJS.WriteStream;
    const p = terminalProgress(stream);
    for (let r = 0; r <= 100; r += 5) p.update({ received: r * 1e6, total: 100e6, bytesPerSecond: 2.5e6 });
    p.stop();
    expect(lines.length).toBe(11);
    expect(lines[0]).toBe('CIFAR-10: 0% 0.0/100.0 MB, 2.5 MB/s\n');
    expect(lines[10]).toBe('CIFAR-10: 100% 100.0/100.0 MB, 2.5 MB/s\n');
  });

  it('draws a bar with bytes, rate and time left on a TTY', () => {
    let out = '';
    const noop = () => true;
    const stream = { isTTY: true, columns: 120, write: (s: string) => { out += s; return true; }, cursorTo: noop, clearLine: noop,
      clearScreenDown: noop, moveCursor: noop, on: noop, removeListener: noop } as unknown as NodeJS.WriteStream;
    const p = terminalProgress(stream);
    p.update({ received: 10e6, total: 170e6, bytesPerSecond: 4e6 });
    p.stop();
    expect(out).toContain('| 5% 10.0/170.0 MB 4.0 MB/s ETA 40s');
  });
});
