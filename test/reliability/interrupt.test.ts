// Downloads and extractions killed with SIGKILL part-way: nothing is left under the names a later run
// looks for (the archive, cifar-10-batches-bin/), only hidden temp files, and the next run fetches or
// extracts again and gets the right data.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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
  // The extraction is synchronous (one tick), so a kill sent from here races its end. The child instead
  // SIGKILLs itself inside its k-th file write (tar writes through node:fs's writeSync), which always
  // lands mid-extraction; k is drawn over the writes counted in an uninterrupted run.
  const extractUntilWrite = (archive: string, killAt: number) => childUntil(
    `import fs from 'node:fs';
     let writes = 0;
     const writeSync = fs.writeSync;
     fs.writeSync = function (...args) {
       if (++writes === ${killAt}) process.kill(process.pid, 'SIGKILL');
       return writeSync.apply(this, args);
     };
     const { readCifar10 } = await import(${JSON.stringify(dist('load.js'))});
     await readCifar10(${JSON.stringify(archive)});
     process.stderr.write('writes=' + writes);`,
    (kill) => { setTimeout(kill, 20_000); });
  const newArchive = (name: string) => {
    const dir = join(root, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'cifar-10-binary.tar.gz'), archiveBytes);
    return { dir, archive: join(dir, 'cifar-10-binary.tar.gz') };
  };

  it('3 SIGKILLs during extraction: never a partial cifar-10-batches-bin/, and the next read gets every image', async () => {
    const counted = newArchive('count');
    const full = await extractUntilWrite(counted.archive, 0);
    expect(full.code, full.stderr).toBe(0);
    const writes = Number(/writes=(\d+)/.exec(full.stderr)?.[1]);
    expect(writes).toBeGreaterThan(6); // several writes per batch file, so there is a middle to hit
    const rng = new Rng(9);
    for (let k = 0; k < 3; k++) {
      const { dir, archive } = newArchive(`x${k}`);
      const killAt = 1 + rng.nextInt(writes);
      const r = await extractUntilWrite(archive, killAt);
      expect(r.signal, `killed at write ${killAt} of ${writes}: ${r.stderr}`).toBe('SIGKILL');
      // the temp folder is there, the dataset's name is not (the rename is the last step)
      expect(readdirSync(dir).filter((f) => !f.startsWith('.'))).toEqual(['cifar-10-binary.tar.gz']);
      expect(readdirSync(dir).some((f) => f.startsWith('.cifar-10-extract-'))).toBe(true);
      const got = await readCifar10(dir);
      expect(got.train!.count).toBe(4000);
      expect(Buffer.compare(Buffer.from(got.train!.images), Buffer.from(data.train.images))).toBe(0);
      expect(Buffer.compare(Buffer.from(got.test!.labels), Buffer.from(data.test.labels))).toBe(0);
      expect(existsSync(join(dir, 'cifar-10-batches-bin'))).toBe(true);
      // the re-extraction also removed the killed one's hidden temp folder
      expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
    }
  });
});

afterAll(() => rmSync(root, { recursive: true, force: true }));
