// Downloads and extractions killed with SIGKILL part-way: nothing is left under the names a later run
// looks for (the archive, cifar-10-batches-bin/), only hidden temp files, and the next run fetches or
// extracts again and gets the right data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, watch, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { packageRoot } from '../../lib/backend.js';
import { downloadCifar10, locateCifar10, readCifar10, type ArchiveChecksum } from '../../lib/data/index.js';
import { Rng } from '../../lib/data/rng.js';
import { datasetFiles, officialEntries, tarGz, tempDir } from '../data/fixtures.js';

const root = tempDir('interrupt');
const dist = (p: string) => pathToFileURL(join(packageRoot(), 'dist', 'lib', 'data', p)).href;

/** Runs `code` (an ES module body) in a child node, SIGKILLed when `killWhen` resolves. */
function childUntil(code: string, killWhen: (kill: () => void) => void): Promise<{ signal: NodeJS.Signals | null; code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    killWhen(() => child.kill('SIGKILL'));
    child.on('close', (c, signal) => resolve({ signal, code: c, stderr }));
  });
}

describe('an interrupted download', () => {
  const body = randomBytes(3 * 2 ** 20);
  const checksum: ArchiveChecksum = { size: body.length, md5: createHash('md5').update(body).digest('hex'), sha256: createHash('sha256').update(body).digest('hex') };
  let server: http.Server;
  let url = '';
  let sent = 0;
  let onSent: (() => void) | null = null;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-length': body.length });
      if (req.url === '/fast') return res.end(body);
      let at = 0;
      const next = () => {
        if (at >= body.length || res.destroyed) return res.end();
        res.write(body.subarray(at, at + 65536));
        at += 65536;
        sent = at;
        if (sent >= body.length / 3) onSent?.();
        setTimeout(next, 10);
      };
      next();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => server.close());

  it('leaves no archive a later run could take for the real one, and the next download verifies', async () => {
    const dir = join(root, 'dl');
    const r = await childUntil(
      `import { downloadCifar10 } from ${JSON.stringify(dist('download.js'))};
       await downloadCifar10({ dir: ${JSON.stringify(dir)}, url: ${JSON.stringify(url + '/slow')}, checksum: ${JSON.stringify(checksum)}, onProgress: false });`,
      (kill) => { onSent = () => { onSent = null; setTimeout(kill, 30); }; });
    expect(r.signal, r.stderr).toBe('SIGKILL');
    expect(sent).toBeLessThan(body.length);
    const left = readdirSync(dir);
    expect(left).not.toContain('cifar-10-binary.tar.gz');
    expect(left.every((f) => f.startsWith('.') && f.endsWith('.part'))).toBe(true);
    await expect(locateCifar10(dir)).rejects.toMatchObject({ code: 'missing' });
    const ok = await downloadCifar10({ dir, url: url + '/fast', checksum, onProgress: false });
    expect(ok.downloaded).toBe(true);
    // the killed download's hidden .part file is gone too
    expect(readdirSync(dir)).toEqual(['cifar-10-binary.tar.gz']);
  });
});

describe('an interrupted extraction', () => {
  const data = datasetFiles(800, 4);
  const archiveBytes = tarGz(officialEntries(data));
  it('3 SIGKILLs during extraction: never a partial cifar-10-batches-bin/, and the next read gets every image', async () => {
    const rng = new Rng(9);
    let midway = 0;
    for (let k = 0; k < 3; k++) {
      const dir = join(root, `x${k}`);
      mkdirSync(dir);
      const archive = join(dir, 'cifar-10-binary.tar.gz');
      writeFileSync(archive, archiveBytes);
      const r = await childUntil(
        `import { readCifar10 } from ${JSON.stringify(dist('load.js'))};
         await readCifar10(${JSON.stringify(archive)});`,
        (kill) => {
          const w = watch(dir, (_e, f) => {
            if (f && String(f).startsWith('.cifar-10-extract-')) {
              w.close();
              setTimeout(kill, rng.nextInt(120));
            }
          });
          setTimeout(() => { w.close(); kill(); }, 20_000);
        });
      expect(r.signal, r.stderr).toBe('SIGKILL');
      // either nothing under the dataset's name, or the whole dataset (the rename is the last step)
      const visible = readdirSync(dir).filter((f) => !f.startsWith('.'));
      const wasMidway = !visible.includes('cifar-10-batches-bin') && readdirSync(dir).some((f) => f.startsWith('.cifar-10-extract-'));
      if (wasMidway) midway++;
      expect(visible.filter((f) => f !== 'cifar-10-binary.tar.gz').every((f) => f === 'cifar-10-batches-bin')).toBe(true);
      const got = await readCifar10(dir);
      expect(got.train!.count).toBe(4000);
      expect(Buffer.compare(Buffer.from(got.train!.images), Buffer.from(data.train.images))).toBe(0);
      expect(Buffer.compare(Buffer.from(got.test!.labels), Buffer.from(data.test.labels))).toBe(0);
      expect(existsSync(join(dir, 'cifar-10-batches-bin'))).toBe(true);
      // a re-extraction also removed the killed one's hidden temp folder
      if (wasMidway) expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    }
    // the kills did land in the middle of extractions (a hidden temp folder, no dataset folder yet)
    expect(midway).toBeGreaterThanOrEqual(1);
  });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));
