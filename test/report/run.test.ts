// A tiny model trained in the test: the run's run.json and report.html (as epochs finish and at the
// end), the page opened in headless Chromium, `vgg-cifar report` regenerating it, and predict() on
// real test images saved as PNG and JPEG, and on malformed files.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { chromium, type Browser } from 'playwright-core';
import { runTraining } from '../../lib/report/training.js';
import { resolveTrainOptions, type TrainOptions } from '../../lib/train/options.js';
import type { TrainHistory } from '../../lib/train/events.js';
import { evaluate } from '../../lib/train/evaluate-api.js';
import { readCifar10 } from '../../lib/data/load.js';
import { predict } from '../../lib/report/predict.js';
import { encodePng, planarToRgba } from '../../lib/report/images.js';
import { readRunRecord, type RunRecord } from '../../lib/train/run-file.js';
import { registerReport } from '../../lib/cli/report.js';
import { registerPredict } from '../../lib/cli/predict.js';
import { tempDir } from '../data/fixtures.js';
import { upscale } from '../helpers/images.js';
import { writeLearnableDataset } from '../train/fixtures.js';
import { CHROMIUM, INSTALL_COMMAND } from '../helpers/system-needs.js';

const dir = tempDir('report');
const data = writeLearnableDataset(join(dir, 'data'), 100);
let o: TrainOptions;
let history: TrainHistory;
const duringRun: Array<{ epoch: number; record: RunRecord; html: string }> = [];

beforeAll(async () => {
  o = resolveTrainOptions({ data, out: join(dir, 'run'), backend: 'cpu', model: 'vgg11', widthDivisor: 8, batchNorm: true, optimizer: 'sgd',
    lr: 0.05, momentum: 0.9, batchSize: 32, epochs: 2, display: 3, saveEvery: 2, seed: 3 });
  history = await runTraining(o, {
    // Called before the loop publishes epoch e: what is on disk then is the report of epoch e - 1.
    onEpoch: (e) => {
      if (e.epoch > 1) duringRun.push({ epoch: e.epoch - 1, record: readRunRecord(o.out), html: readFileSync(join(o.out, 'report.html'), 'utf8') });
    },
  });
});

describe('run.json and report.html', () => {
  it('are written as epochs finish, the page reloading itself while the run goes on', () => {
    expect(duringRun.map((d) => d.epoch)).toEqual([1]);
    for (const d of duringRun) {
      expect(d.record.status).toBe('running');
      expect(d.record.epochs).toHaveLength(d.epoch);
      expect(d.record.evaluation!.epoch).toBe(d.epoch);
      expect(d.html).toMatch(/<meta http-equiv="refresh" content="30">/);
    }
    // No checkpoint after epoch 1 (saveEvery 2): the page says when the feature maps come.
    expect(duringRun[0].html).toMatch(/feature maps: no checkpoint yet/);
  });

  it('hold the whole run at the end: history, evaluation, misclassified images', () => {
    const r = readRunRecord(o.out);
    expect(r.status).toBe('finished');
    expect(r.epochs).toEqual(history.epochs);
    expect(r.steps.map((s) => s.step)).toEqual(history.steps.map((s) => s.step));
    expect(r.classes).toHaveLength(10);
    expect(r.info.device).toBe('cpu');
    expect(r.options.model).toBe('vgg11');
    const ev = r.evaluation!;
    expect(ev.epoch).toBe(2);
    expect(ev.accuracy).toBeCloseTo(history.epochs[1].testAccuracy!, 9);
    expect(ev.confusion.flat().reduce((a, b) => a + b, 0)).toBe(100);
    const offDiagonal = ev.confusion.reduce((a, row, i) => a + row.reduce((s, v, j) => s + (i === j ? 0 : v), 0), 0);
    expect(ev.misclassifiedTotal).toBe(offDiagonal);
    expect(ev.misclassified).toHaveLength(offDiagonal);
    for (const [, t, p] of ev.misclassified) expect(t).not.toBe(p);
    const html = readFileSync(join(o.out, 'report.html'), 'utf8');
    expect(html).not.toMatch(/http-equiv="refresh"/);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(existsSync(join(o.out, 'feature-maps.png'))).toBe(true);
    expect(html).toMatch(/test image 0 \([a-z]+\) through cifar10_epoch_2\.safetensors/);
  });
});

describe('report.html in headless Chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: run \`${INSTALL_COMMAND}\` (or set CHROMIUM_PATH)`);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  });
  afterAll(async () => browser?.close());

  it('shows every chart with one mark per value, the images, and no console errors; the screenshot is not blank', async () => {
    const r = readRunRecord(o.out);
    const page = await browser.newPage({ viewport: { width: 1300, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('requestfailed', (q) => errors.push(`request failed: ${q.url()}`));
    await page.goto(`file://${join(o.out, 'report.html')}`, { waitUntil: 'load' });
    const charts = await page.$$eval('figure.chart', (fs) => fs.map((f) => ({
      id: f.id, svg: f.querySelectorAll('svg').length, width: f.getBoundingClientRect().width,
      points: f.querySelectorAll('path[aria-roledescription="point"]').length, bars: f.querySelectorAll('path[aria-roledescription="bar"]').length,
      title: f.querySelector('svg .role-title-text')?.textContent ?? '' })));
    const n = r.steps.length;
    const e = r.epochs.length;
    expect(n).toBeGreaterThan(10);
    expect(charts.map((c) => [c.id, c.points, c.bars])).toEqual([
      ['chart-loss-step', n, 0], ['chart-accuracy-step', n, 0], ['chart-loss-epoch', 2 * e, 0], ['chart-accuracy-epoch', 2 * e, 0],
      ['chart-lr-step', n, 0], ['chart-throughput-step', n, 0], ['chart-per-class', 0, r.classes.filter((_, i) => Number.isFinite(r.evaluation!.perClass[i])).length]]);
    for (const c of charts) {
      expect(c.svg).toBe(1);
      expect(c.width).toBeGreaterThan(300);
    }
    expect(charts.find((c) => c.id === 'chart-loss-epoch')!.title).toBe('Loss per epoch: train vs test');
    // The legend names both curves of the per-epoch charts.
    const legend = await page.$$eval('#chart-accuracy-epoch .role-legend-label text', (ts) => ts.map((t) => t.textContent));
    expect(legend).toEqual(['train', 'test']);
    const cells = await page.$$eval('table.confusion td', (tds) => tds.length);
    expect(cells).toBe(10 * 11);
    const images = await page.$$eval('img', (is) => is.map((i) => ({ alt: i.alt, w: i.naturalWidth, h: i.naturalHeight })));
    const mis = images.filter((i) => i.alt.startsWith('test image'));
    expect(mis).toHaveLength(Math.min(40, r.evaluation!.misclassifiedTotal));
    for (const i of mis) expect([i.w, i.h]).toEqual([32, 32]);
    const maps = images.find((i) => i.alt === 'feature maps')!;
    expect(maps.w).toBeGreaterThan(600);
    expect(errors).toEqual([]);

    const shot = PNG.sync.read(await page.screenshot({ fullPage: true }));
    let ink = 0;
    const colours = new Set<number>();
    for (let p = 0; p < shot.data.length; p += 4) {
      const [rr, g, b] = [shot.data[p], shot.data[p + 1], shot.data[p + 2]];
      if (rr < 240 || g < 240 || b < 240) ink++;
      colours.add((rr << 16) | (g << 8) | b);
    }
    expect(shot.height).toBeGreaterThan(2000);
    expect(ink / (shot.width * shot.height)).toBeGreaterThan(0.05);
    expect(colours.size).toBeGreaterThan(500);
    await page.close();
  });
});

describe('vgg-cifar report', () => {
  it('regenerates report.html from the run folder', async () => {
    const page = join(o.out, 'report.html');
    const before = readFileSync(page, 'utf8');
    rmSync(page);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const program = new Command().exitOverride();
      registerReport(program);
      await program.parseAsync(['node', 'vgg-cifar', 'report', o.out]);
      expect(String(out.mock.calls[0][0])).toBe(`wrote ${page} (7 charts)\n`);
    } finally {
      out.mockRestore();
    }
    const after = readFileSync(page, 'utf8');
    // Same page but for the "updated" time it shows (it is re-rendered, not copied).
    const strip = (s: string) => s.replace(/updated [^.]+\.\d+Z/, '');
    expect(strip(after)).toBe(strip(before));
    await expect(new Promise((res, rej) => {
      const p = new Command().exitOverride();
      registerReport(p);
      p.parseAsync(['node', 'vgg-cifar', 'report', join(dir, 'data')]).then(res, rej);
    })).rejects.toThrow(/no run\.json here/);
  });
});

describe('predict', () => {
  let images: Uint8Array;
  let labels: Uint8Array;
  const files: string[] = [];
  const ckpt = () => join(o.out, 'cifar10_epoch_2.safetensors');
  beforeAll(async () => {
    const d = await readCifar10(data, { splits: ['test'] });
    images = d.test!.images;
    labels = d.test!.labels;
    mkdirSync(join(dir, 'images'), { recursive: true });
    for (let i = 0; i < 4; i++) {
      const rgba = planarToRgba(images.subarray(i * 3072, (i + 1) * 3072));
      files.push(join(dir, 'images', `test${i}.png`));
      writeFileSync(files.at(-1)!, encodePng(rgba));
      files.push(join(dir, 'images', `test${i}_x3.png`));
      writeFileSync(files.at(-1)!, encodePng(upscale(rgba, 3)));
      files.push(join(dir, 'images', `test${i}.jpg`));
      writeFileSync(files.at(-1)!, jpeg.encode({ ...upscale(rgba, 2), data: Buffer.from(upscale(rgba, 2).data) }, 95).data);
    }
  });

  it('classifies real test images as evaluation does, at any size, PNG or JPEG, top-5 with probabilities', async () => {
    const ev = await evaluate({ checkpoint: ckpt(), data, backend: 'cpu', limit: 4 });
    const r = predict({ checkpoint: ckpt(), images: files, backend: 'cpu' });
    expect(r.map((p) => p.file)).toEqual(files);
    for (let i = 0; i < 4; i++) {
      const [png, big, jpg] = r.slice(3 * i, 3 * i + 3);
      expect([png.width, png.height, big.width, big.height, jpg.width, jpg.height]).toEqual([32, 32, 96, 96, 64, 64]);
      for (const p of [png, big, jpg]) {
        expect(p.top).toHaveLength(5);
        for (let k = 1; k < 5; k++) expect(p.top[k].probability).toBeLessThanOrEqual(p.top[k - 1].probability);
        expect(p.top.reduce((a, t) => a + t.probability, 0)).toBeLessThanOrEqual(1 + 1e-9);
      }
      // Lossless 32x32 input: exactly what evaluation saw.
      expect(png.top[0].index).toBe(ev.predictions[i]);
      // The 3x nearest-neighbour upscale resizes back to the same pixels.
      expect(big.top).toEqual(png.top);
      // JPEG is lossy: close, not equal.
      expect(Math.abs(jpg.top.find((t) => t.index === png.top[0].index)?.probability ?? 0) - png.top[0].probability).toBeLessThan(0.15);
      expect(png.top[0].class).toBe(ev.classes[png.top[0].index]);
    }
    // Right exactly where evaluation was right.
    expect([0, 1, 2, 3].map((i) => r[3 * i].top[0].index === labels[i])).toEqual([0, 1, 2, 3].map((i) => ev.predictions[i] === labels[i]));
  });

  it('--json prints the predictions', async () => {
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      const program = new Command().exitOverride();
      registerPredict(program);
      await program.parseAsync(['node', 'vgg-cifar', 'predict', '--checkpoint', ckpt(), '--top', '3', '--backend', 'cpu', '--json', files[0], files[2]]);
      const printed = JSON.parse(String(out.mock.calls[0][0]));
      expect(printed.map((p: { file: string; top: unknown[] }) => [p.file, p.top.length])).toEqual([[files[0], 3], [files[2], 3]]);
    } finally {
      out.mockRestore();
    }
  });

  it('names the file and what is wrong with it for unreadable or non-image files', () => {
    const bad = (name: string, bytes: Uint8Array | string) => {
      const f = join(dir, 'images', name);
      writeFileSync(f, bytes);
      return f;
    };
    const png = readFileSync(files[0]);
    const jpg = readFileSync(files[2]);
    const cases: Array<[string, RegExp]> = [
      [bad('empty.png', ''), /empty\.png: the file is empty, not a PNG or JPEG image/],
      [bad('notes.png', 'hello, not an image\n'), /notes\.png: not a PNG or JPEG image \(unrecognized file header\)/],
      [bad('cut.png', png.subarray(0, 60)), /cut\.png: not a readable PNG image/],
      [bad('cut.jpg', jpg.subarray(0, 200)), /cut\.jpg: not a readable JPEG image/],
      [join(dir, 'images', 'missing.jpg'), /missing\.jpg: cannot read image: no such file/],
      [join(dir, 'images'), /images: cannot read image: is a folder/],
    ];
    for (const [f, msg] of cases) {
      expect(() => predict({ checkpoint: ckpt(), images: [files[0], f], backend: 'cpu' }), f).toThrow(msg);
    }
    expect(() => predict({ checkpoint: ckpt(), images: [], backend: 'cpu' })).toThrow(/at least one image/);
  });
});
