// The exported web page in a real browser: headless Chromium opens it from `serve` on 127.0.0.1, ten
// PNG images are uploaded (CIFAR-sized, upscaled, an odd size, one with transparency), one is dropped
// on the page, one file is not an image; the page's top-5 classes equal `vgg-cifar predict --json` on
// the same files (probabilities within 1e-3) and the page names the model and its test accuracy. The
// screenshot goes to test-output/export/. The same page also works from a plain static server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { packageRoot } from '../../lib/backend.js';
import { encodePng, planarToRgba, type RgbaImage } from '../../lib/report/images.js';
import { loadStateDict, stateDict } from '../../lib/nn/state.js';
import { serve, type Serving } from '../../lib/export/serve.js';
import { tempDir } from '../data/fixtures.js';
import { upscale } from '../helpers/images.js';
import { CLASSES, CLI, fixtureModel, ourLogits, realLookingImages, saveFixture, toInput } from './fixtures.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUTPUT = join(packageRoot(), 'test-output', 'export');
const dir = tempDir('web');
const page = join(dir, 'page');
const files: string[] = [];
let ckpt: string;
let server: Serving;
let browser: Browser;

interface Shown { file: string; state: string; top: Array<{ index: number; class: string; probability: number }>; error: string }
interface Predicted { file: string; top: Array<{ index: number; class: string; probability: number }> }

beforeAll(() => {
  // A small VGG11-BN whose last layer is centred on these images and scaled, so that its top classes
  // differ from image to image with clear margins (a random network favours one class everywhere).
  const pixels = realLookingImages(10, 32, 32, 77);
  const model = fixtureModel({ depth: 11, widthDivisor: 8, batchNorm: true }, 21);
  const logits = ourLogits(model, toInput(pixels, 32, 32, true), 10);
  const sd = stateDict(model);
  const last = `net.${model.net.layers.length - 1}`;
  const mean = Array.from({ length: 10 }, (_, c) => logits.filter((_, i) => i % 10 === c).reduce((a, b) => a + b, 0) / 10);
  const spread = Math.sqrt(logits.reduce((a, v, i) => a + (v - mean[i % 10]) ** 2, 0) / logits.length);
  const scale = 2.5 / spread;
  (sd.get(`${last}.weight`)!.data as Float32Array).forEach((v, i, a) => (a[i] = v * scale));
  (sd.get(`${last}.bias`)!.data as Float32Array).forEach((v, i, a) => (a[i] = (v - mean[i]) * scale));
  loadStateDict(model, sd);
  ckpt = saveFixture(dir, 'model.safetensors', model, { normalize: true, accuracy: 0.8123, epoch: 7 });
  model.dispose();

  mkdirSync(join(dir, 'images'));
  const save = (name: string, img: RgbaImage) => {
    files.push(join(dir, 'images', name));
    writeFileSync(files.at(-1)!, encodePng(img));
  };
  for (let i = 0; i < 10; i++) {
    const rgba = planarToRgba(pixels.subarray(i * 3072, (i + 1) * 3072));
    if (i === 6) save(`test${i}_x3.png`, upscale(rgba, 3));
    else if (i === 8) {
      // An odd size that area averaging resamples by fractions of pixels.
      const odd = realLookingImages(1, 41, 53, 9);
      save(`test${i}_53x41.png`, planarToRgba(odd, 53, 41));
    } else if (i === 9) {
      // Transparent corners: composited over white, on the page as in predict.
      for (let p = 0; p < 1024; p++) if ((p % 32) + Math.floor(p / 32) < 10) rgba.data[4 * p + 3] = 0;
      save(`test${i}_alpha.png`, rgba);
    } else save(`test${i}.png`, rgba);
  }
  const r = spawnSync(process.execPath, [CLI, 'export', '--checkpoint', ckpt, '--format', 'web', '--out', page], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

beforeAll(async () => {
  server = await serve({ folder: page, port: 0 });
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function open(url: string): Promise<{ page: Page; problems: string[] }> {
  const p = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const problems: string[] = [];
  p.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
  p.on('pageerror', (e) => problems.push(String(e)));
  p.on('requestfailed', (q) => problems.push(`request failed: ${q.url()}`));
  await p.goto(url, { waitUntil: 'load' });
  await p.waitForSelector('body[data-state=ready], body[data-state=error]', { timeout: 60_000 });
  expect(await p.getAttribute('body', 'data-state'), await p.textContent('#status') ?? '').toBe('ready');
  return { page: p, problems };
}

async function cards(p: Page, count: number): Promise<Shown[]> {
  await p.waitForFunction((n) => document.querySelectorAll('.card:not([data-state=working])').length === n, count, { timeout: 60_000 });
  return p.$$eval('.card', (cs) => cs.map((c) => ({
    file: (c as HTMLElement).dataset.file ?? '', state: (c as HTMLElement).dataset.state ?? '', error: c.querySelector('.error')?.textContent ?? '',
    top: [...c.querySelectorAll('.bar')].map((b) => {
      const d = (b as HTMLElement).dataset;
      return { index: Number(d.index), class: d.class ?? '', probability: Number(d.probability) };
    }),
  })));
}

function expectSame(shown: Shown, predicted: Predicted): void {
  expect(shown.state, shown.error).toBe('done');
  expect(shown.top.map((t) => [t.index, t.class])).toEqual(predicted.top.map((t) => [t.index, t.class]));
  for (let k = 0; k < 5; k++) expect(Math.abs(shown.top[k].probability - predicted.top[k].probability)).toBeLessThanOrEqual(1e-3);
}

describe('the exported page in headless Chromium', () => {
  it('classifies 10 uploaded PNGs as `vgg-cifar predict --json` does, names the model and its accuracy; screenshot saved', async () => {
    const predicted = JSON.parse(execFileSync(process.execPath, [CLI, 'predict', '--checkpoint', ckpt, '--backend', 'cpu', '--json', ...files],
      { encoding: 'utf8' })) as Predicted[];
    // The check means something: the top class changes from image to image, by clear margins.
    expect(new Set(predicted.map((p) => p.top[0].index)).size).toBeGreaterThanOrEqual(4);
    for (const p of predicted) expect(p.top[0].probability - p.top[1].probability).toBeGreaterThan(2e-3);

    const { page: p, problems } = await open(server.url);
    expect(await p.textContent('h1')).toBe('VGG11-BN classifies images in your browser');
    expect(await p.textContent('.accuracy')).toBe('Test accuracy 81.23% on 10,000 test images, after epoch 7.');
    expect(await p.textContent('.about')).toContain(CLASSES.join(', '));
    expect(await p.evaluate(() => crossOriginIsolated)).toBe(true);
    await p.setInputFiles('#files', files);
    const shown = await cards(p, 10);
    expect(shown.map((s) => s.file)).toEqual(files.map((f) => f.split('/').at(-1)));
    shown.forEach((s, i) => expectSame(s, predicted[i]));
    expect(await p.$$eval('.card .size', (e) => e.map((x) => x.textContent))).toEqual(
      files.map((f) => (f.endsWith('_x3.png') ? '96×96 → 32×32' : f.endsWith('53x41.png') ? '53×41 → 32×32' : '32×32')));
    expect(problems).toEqual([]);

    mkdirSync(OUTPUT, { recursive: true });
    const shot = await p.screenshot({ fullPage: true });
    writeFileSync(join(OUTPUT, 'web-page.png'), shot);
    const png = PNG.sync.read(shot);
    let ink = 0;
    for (let i = 0; i < png.data.length; i += 4) if (png.data[i] < 200 || png.data[i + 1] < 200 || png.data[i + 2] < 200) ink++;
    expect(png.height).toBeGreaterThan(700);
    expect(ink / (png.width * png.height)).toBeGreaterThan(0.02);
    console.log(`screenshot: ${join(OUTPUT, 'web-page.png')}`);
    await p.close();
  });

  it('classifies a dropped image the same way, and says so for a file that is not an image', async () => {
    const { page: p, problems } = await open(server.url);
    const dropped = await p.evaluateHandle(([name, b64]) => {
      const dt = new DataTransfer();
      dt.items.add(new File([Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0))], name, { type: 'image/png' }));
      return dt;
    }, ['dropped.png', readFileSync(files[3]).toString('base64')] as const);
    await p.dispatchEvent('#drop', 'drop', { dataTransfer: dropped });
    await p.setInputFiles('#files', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image') });
    const [drop, bad] = await cards(p, 2);
    const predicted = JSON.parse(execFileSync(process.execPath, [CLI, 'predict', '--checkpoint', ckpt, '--backend', 'cpu', '--json', files[3]],
      { encoding: 'utf8' })) as Predicted[];
    expect(drop.file).toBe('dropped.png');
    expectSame(drop, predicted[0]);
    expect([bad.file, bad.state, bad.error]).toEqual(['notes.png', 'error', 'this file is not an image the browser can read']);
    expect(problems).toEqual([]);
    await p.close();
  });

  it('works from a plain static file server too (python3 -m http.server: no isolation, one thread)', async (ctx) => {
    const python = ['/usr/bin/python3', 'python3'].find((py) => spawnSync(py, ['--version']).status === 0);
    if (!python) ctx.skip();
    const child: ChildProcess = spawn(python!, ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', page], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((ok, fail) => {
        let text = '';
        child.stdout!.on('data', (d) => {
          text += d;
          const m = /port (\d+)/.exec(text);
          if (m) ok(`http://127.0.0.1:${m[1]}/`);
        });
        child.on('exit', (c) => fail(new Error(`http.server exited ${c}`)));
      });
      const { page: p, problems } = await open(url);
      expect(await p.evaluate(() => crossOriginIsolated)).toBe(false);
      await p.setInputFiles('#files', [files[0], files[8]]);
      const shown = await cards(p, 2);
      const predicted = JSON.parse(execFileSync(process.execPath, [CLI, 'predict', '--checkpoint', ckpt, '--backend', 'cpu', '--json', files[0], files[8]],
        { encoding: 'utf8' })) as Predicted[];
      shown.forEach((s, i) => expectSame(s, predicted[i]));
      expect(problems).toEqual([]);
      await p.close();
    } finally {
      child.kill();
    }
  });
});
