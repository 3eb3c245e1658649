// report.html: one self-contained page (inline SVG charts, images as data URIs, no scripts) made from a
// run folder: run.json, the latest checkpoint (feature maps) and the CIFAR-10 test split it names.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomic } from '../atomic-file.js';
import { checkpointHeader } from '../nn/checkpoint.js';
import { LOCK_FILE, lockState } from '../train/lock.js';
import { readCifar10 } from '../data/load.js';
import { barChart, lineChart, type Chart } from './charts.js';
import { pngDataUri, planarToRgba } from './images.js';
import { visualize } from './visualize.js';
import { MAPS_FILE, MAPS_META, readRunRecord, REPORT_FILE, type RunRecord } from '../train/run-file.js';

export interface ReportOptions {
  /** The CIFAR-10 folder, when the one run.json names has moved. */
  data?: string;
  /** Write here instead of RUN_DIR/report.html. */
  out?: string;
  /** Misclassified test images shown (default 40). */
  misclassified?: number;
  /** Seconds between reloads while the run is going on (default 30). */
  refreshSeconds?: number;
}

export interface ReportResult {
  path: string;
  charts: Array<{ id: string; title: string; marks: number }>;
  /** Things the page could not show, and why (also said on the page). */
  notes: string[];
}


const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : `${(100 * v).toFixed(2)}%`);
const fix = (v: number | null | undefined, d = 4) => (v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(d));

async function charts(r: RunRecord): Promise<Chart[]> {
  const steps = r.steps;
  const epochs = r.epochs;
  const stepPoint = steps.length > 200 ? 6 : 20;
  const out = [
    await lineChart({ id: 'loss-step', title: 'Loss per step (train split)', x: 'step', y: 'cross-entropy',
      series: [{ name: 'train', points: steps.map((s) => ({ x: s.step, y: s.loss })) }], pointSize: stepPoint }),
    await lineChart({ id: 'accuracy-step', title: 'Accuracy per step (train split)', x: 'step', y: 'accuracy',
      series: [{ name: 'train', points: steps.map((s) => ({ x: s.step, y: s.accuracy })) }], pointSize: stepPoint }),
    await lineChart({ id: 'loss-epoch', title: 'Loss per epoch: train vs test', x: 'epoch', y: 'cross-entropy', integerX: true, series: [
      { name: 'train', points: epochs.map((e) => ({ x: e.epoch, y: e.trainLoss })) },
      { name: 'test', points: epochs.map((e) => ({ x: e.epoch, y: e.testLoss ?? NaN })) }] }),
    await lineChart({ id: 'accuracy-epoch', title: 'Accuracy per epoch: train vs test', x: 'epoch', y: 'accuracy', integerX: true, series: [
      { name: 'train', points: epochs.map((e) => ({ x: e.epoch, y: e.trainAccuracy })) },
      { name: 'test', points: epochs.map((e) => ({ x: e.epoch, y: e.testAccuracy ?? NaN })) }] }),
    await lineChart({ id: 'lr-step', title: 'Learning rate per step', x: 'step', y: 'learning rate',
      series: [{ name: 'lr', points: steps.map((s) => ({ x: s.step, y: s.lr })) }], pointSize: stepPoint }),
    await lineChart({ id: 'throughput-step', title: 'Throughput per step', x: 'step', y: 'images / s',
      series: [{ name: 'training', points: steps.map((s) => ({ x: s.step, y: s.imagesPerSecond })) }], pointSize: stepPoint }),
  ];
  if (r.evaluation) {
    out.push(await barChart({ id: 'per-class', title: `Per-class accuracy (${r.evaluation.split} split, epoch ${r.evaluation.epoch})`,
      x: 'class', y: 'accuracy', domain: [0, 1], bars: r.classes.map((c, i) => ({ label: c, value: r.evaluation!.perClass[i] })) }));
  }
  return out;
}

function confusionTable(r: RunRecord): string {
  const ev = r.evaluation!;
  const max = Math.max(1, ...ev.confusion.flat());
  const head = `<tr><th>true \\ predicted</th>${r.classes.map((c) => `<th>${esc(c)}</th>`).join('')}<th>accuracy</th></tr>`;
  const rows = ev.confusion.map((row, i) => `<tr><th>${esc(r.classes[i])}</th>${row.map((v, j) => {
    const a = v / max;
    const bg = i === j ? `rgba(33,113,181,${a.toFixed(3)})` : `rgba(214,96,77,${a.toFixed(3)})`;
    return `<td style="background:${bg};color:${a > 0.55 ? '#fff' : '#000'}">${v}</td>`;
  }).join('')}<td>${pct(ev.perClass[i])}</td></tr>`).join('\n');
  return `<table class="confusion">${head}\n${rows}</table>`;
}

async function misclassifiedGrid(r: RunRecord, dataDir: string, n: number, notes: string[]): Promise<string> {
  const ev = r.evaluation!;
  if (ev.misclassified.length === 0) return '<p>No test image was misclassified.</p>';
  let images: Uint8Array;
  try {
    const d = await readCifar10(dataDir, { splits: [ev.split] });
    images = (ev.split === 'test' ? d.test! : d.train!).images;
  } catch (e) {
    notes.push(`misclassified images: cannot read CIFAR-10 at ${dataDir} (${(e as Error).message.split('\n')[0]}); pass --data`);
    return `<p class="note">${esc(notes.at(-1))}</p>`;
  }
  const cells = ev.misclassified.slice(0, n).map(([i, t, p]) => {
    const uri = pngDataUri(planarToRgba(images.subarray(i * 3072, (i + 1) * 3072)));
    return `<figure class="mis"><img src="${uri}" width="64" height="64" alt="test image ${i}"><figcaption>#${i}<br>true: <b>${esc(r.classes[t])}</b><br>predicted: <b>${esc(r.classes[p])}</b></figcaption></figure>`;
  });
  return `<p>${ev.misclassifiedTotal} of ${ev.count} ${ev.split} images misclassified; the first ${cells.length} in split order:</p><div class="grid">${cells.join('')}</div>`;
}

async function featureMapsSection(r: RunRecord, dir: string, dataDir: string, notes: string[]): Promise<string> {
  // Checkpoint paths are as the run saw them (maybe relative to its working folder): look next to run.json
  // first. Only this run's checkpoints are drawn: a file of the same name may be another run's.
  const found = [...r.checkpoints].reverse().flatMap((c) => [join(dir, basename(c.path)), c.path]).filter((p) => existsSync(p));
  const ck = found.find((p) => ofRun(p, r.runId));
  if (!ck && found.length) {
    notes.push(`feature maps: ${found[0]} is not a checkpoint of this run (run ${r.runId}); not drawn`);
    return `<p class="note">${esc(notes.at(-1))}</p>`;
  }
  if (!ck) {
    notes.push(`feature maps: no checkpoint yet (one is saved every ${String(r.options.saveEvery ?? '?')} epochs and at the end)`);
    return `<p class="note">${esc(notes.at(-1))}</p>`;
  }
  try {
    // Drawn again only when a newer checkpoint appears (the loop publishes every epoch, checkpoints come
    // every saveEvery epochs); the picture is also kept as RUN_DIR/feature-maps.png.
    const png = join(dir, MAPS_FILE);
    const meta = join(dir, MAPS_META);
    const key = { checkpoint: basename(ck), mtimeMs: statSync(ck).mtimeMs, dataDir, source: '' , width: 0, height: 0 };
    let cached: typeof key | null = null;
    try {
      cached = JSON.parse(readFileSync(meta, 'utf8')) as typeof key;
    } catch {
      cached = null;
    }
    if (!cached || cached.checkpoint !== key.checkpoint || cached.mtimeMs !== key.mtimeMs || cached.dataDir !== dataDir || !existsSync(png)) {
      const v = await visualize({ checkpoint: ck, testIndex: 0, data: dataDir, backend: 'cpu', seed: 0 });
      writeFileAtomic(png, (fd) => writeFileSync(fd, v.picture.png));
      cached = { ...key, source: v.source, width: v.picture.width, height: v.picture.height };
      writeFileAtomic(meta, (fd) => writeFileSync(fd, JSON.stringify(cached)));
    }
    return `<p>${esc(cached.source)} through ${esc(cached.checkpoint)} (also saved as ${MAPS_FILE}); 10 channels per layer chosen at random (seed 0). ` +
      '<code>vgg-cifar visualize</code> draws any image.</p>' +
      `<img class="maps" src="data:image/png;base64,${readFileSync(png).toString('base64')}" width="${cached.width}" height="${cached.height}" alt="feature maps">`;
  } catch (e) {
    notes.push(`feature maps: ${(e as Error).message.split('\n')[0]}`);
    return `<p class="note">${esc(notes.at(-1))}</p>`;
  }
}

const CSS = `body{font:14px/1.4 system-ui,-apple-system,"DejaVu Sans",sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{margin:0}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:3px 7px;text-align:right}th{background:#f5f5f5}
table.kv td,table.kv th{text-align:left}.grid{display:flex;flex-wrap:wrap;gap:8px}
figure.mis{margin:0;width:110px;font-size:12px}figure.mis img{image-rendering:pixelated;display:block}
.note{color:#8a4b00}.status{display:inline-block;padding:2px 8px;border-radius:4px;background:#eee}
img.maps{max-width:100%;height:auto}`;

/** Whether checkpoint `path` was written by run `runId` (any checkpoint, for a record from before run ids). */
function ofRun(path: string, runId: string | undefined): boolean {
  if (runId === undefined) return true;
  try {
    return checkpointHeader(path).runId === runId;
  } catch {
    return false;
  }
}

/** A record that says 'running' while no live process holds the folder's lock: the run was killed. */
function stoppedNote(r: RunRecord, dir: string): string | null {
  if (r.status !== 'running') return null;
  const lock = lockState(dir);
  if (lock && lock.state !== 'gone') return null;
  return `run.json says 'running', but no live process holds ${join(dir, LOCK_FILE)}: the run was stopped (killed, or its machine ` +
    `restarted). Continue it with vgg-cifar train --resume <its newest checkpoint>`;
}

/** Renders RUN_DIR/report.html from RUN_DIR/run.json. It reads the run folder and writes only the page
 *  (and the feature-map picture it caches): no lock, and never run.json or a checkpoint. */
export async function renderReport(dir: string, o: ReportOptions = {}): Promise<ReportResult> {
  const r = readRunRecord(dir);
  const dataDir = o.data ?? r.dataDir;
  const notes: string[] = [];
  const stopped = stoppedNote(r, dir);
  if (stopped) notes.push(stopped);
  const cs = await charts(r);
  const last = r.epochs.at(-1);
  const ev = r.evaluation;
  const running = r.status === 'running' && !stopped;
  const refresh = running ? `<meta http-equiv="refresh" content="${o.refreshSeconds ?? 30}">` : '';
  const kv = (rows: Array<[string, unknown]>) => `<table class="kv">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
  const totalImages = r.epochs.reduce((a, e) => a + e.imagesPerSecond * e.seconds, 0);
  const trainSeconds = r.epochs.reduce((a, e) => a + e.seconds, 0);
  // Every accuracy says whether test-time augmentation was used (records from before it existed: none).
  const ttaNote = (t: string | null | undefined, averaged?: boolean) =>
    `(${t === 'flip' ? 'TTA flip: mean of the image and its mirror' : 'no TTA'}${averaged ? '; moving average of the weights' : ''})`;
  const sections = [
    `<h1>vgg-cifar training report</h1>`,
    `<p><span class="status" id="status">${esc(r.status)}</span> ${esc(r.options.model ?? '')}${r.options.batchNorm ? ' with BatchNorm' : ''}, ` +
      `${r.epochs.length} of ${esc(r.options.epochs ?? '?')} epochs; last test accuracy <b>${pct(last?.testAccuracy)}</b> ${ttaNote(last?.testTta, last?.testEma)}` +
      `(train ${pct(last?.trainAccuracy)}). Started ${esc(r.startedAt)}, updated ${esc(r.updatedAt)}.` +
      `${running ? ` This page reloads every ${o.refreshSeconds ?? 30} s while the run goes on.` : ''}</p>`,
    stopped ? `<p class="note" id="stopped">${esc(stopped)}</p>` : '',
    r.warnings.length ? `<h2>Warnings</h2><ul>${r.warnings.map((w) => `<li class="note">${esc(w.kind)}: ${esc(w.message)}</li>`).join('')}</ul>` : '',
    `<h2>Curves</h2><p>Per step: the training split's running loss and accuracy since the previous reading (every ${esc(r.options.display ?? '?')} steps). ` +
      'Per epoch: train = the mean over the epoch\'s steps, test = the TEST split evaluated after the epoch.</p>',
    `<div class="charts">${cs.filter((c) => c.id !== 'per-class').map((c) =>
      `<figure class="chart" id="chart-${c.id}" data-marks="${c.marks}">${c.svg}</figure>`).join('\n')}</div>`,
    `<h2>Test split: confusion matrix and per-class accuracy</h2>`,
    ev ? `<p>After epoch ${ev.epoch}: ${ev.count} ${ev.split} images, accuracy ${pct(ev.accuracy)}, loss ${fix(ev.loss)} ${ttaNote(ev.tta, ev.averaged)}.</p>` +
      `<div class="charts">${confusionTable(r)}${cs.filter((c) => c.id === 'per-class').map((c) =>
        `<figure class="chart" id="chart-${c.id}" data-marks="${c.marks}">${c.svg}</figure>`).join('')}</div>`
      : '<p class="note">No evaluation yet (the run evaluates the test split after each epoch unless told not to).</p>',
    `<h2>Misclassified test images</h2>`,
    ev ? await misclassifiedGrid(r, dataDir, o.misclassified ?? 40, notes) : '<p class="note">No evaluation yet.</p>',
    `<h2>Feature maps</h2>`,
    await featureMapsSection(r, dir, dataDir, notes),
    `<h2>Run</h2>`,
    kv([['backend', r.info.device], ['device', r.info.deviceDescription], ['parameters', r.info.parameters.toLocaleString('en-US')],
      ['training images', r.info.trainImages], ['test images', r.info.testImages], ['wall time (this process)', `${fix(r.seconds, 1)} s`],
      ['training time (all epochs)', `${fix(trainSeconds, 1)} s`], ['mean throughput', `${fix(totalImages / Math.max(1e-9, trainSeconds), 1)} images/s`],
      ['data', r.dataDir], ['resumed at', r.info.startStep ? `epoch ${r.info.startEpoch}, step ${r.info.startStep}` : 'no']]),
    `<h2>Epochs</h2><table><tr><th>epoch</th><th>train loss</th><th>train acc</th><th>test loss</th><th>test acc</th><th>TTA</th><th>seconds</th><th>images/s</th></tr>` +
      r.epochs.map((e) => `<tr><td>${e.epoch}</td><td>${fix(e.trainLoss)}</td><td>${pct(e.trainAccuracy)}</td><td>${fix(e.testLoss)}</td>` +
        `<td>${pct(e.testAccuracy)}</td><td>${e.testAccuracy === null ? '' : esc(e.testTta ?? 'none') + (e.testEma ? ', averaged weights' : '')}</td><td>${fix(e.seconds, 1)}</td><td>${fix(e.imagesPerSecond, 1)}</td></tr>`).join('') + '</table>',
    `<h2>Configuration</h2>`,
    kv(Object.entries(r.options).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : v])),
    r.checkpoints.length ? `<h2>Checkpoints</h2><ul>${r.checkpoints.map((c) => `<li>${esc(c.path)} (epoch ${c.epoch}, step ${c.step}, ${esc(c.reason)})</li>`).join('')}</ul>` : '',
  ];
  const html = `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">${refresh}<title>vgg-cifar report: ${esc(r.options.model ?? '')} ${esc(r.status)}</title>` +
    `<style>${CSS}</style></head><body>\n${sections.join('\n')}\n</body></html>\n`;
  const path = o.out ?? join(dir, REPORT_FILE);
  writeFileAtomic(path, (fd) => writeFileSync(fd, html));
  return { path, charts: cs.map(({ id, title, marks }) => ({ id, title, marks })), notes };
}
