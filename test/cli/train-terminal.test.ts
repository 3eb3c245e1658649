// `vgg-cifar train` in a terminal: the CLI runs under a pseudo-terminal (util-linux's `script`) and the
// screen is rebuilt from what it wrote by xterm.js's headless terminal, snapshot after snapshot. One bar
// for the whole run, its ETAs formatted times, every line printed above it; the first step of epoch 2
// measured without the evaluation before it. Off a terminal, plain lines as before.
import { beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import xterm from '@xterm/headless';
import { CLI, runCli } from '../../bench/kill.js';
import type { ProgressEvent } from '../../lib/train/events.js';
import { tempDir } from '../data/fixtures.js';
import { writeLearnableDataset } from '../train/fixtures.js';

const COLS = 120;
const ROWS = 40;
const hasScript = (() => {
  try {
    return /util-linux/.test(execFileSync('script', ['--version'], { encoding: 'utf8' }));
  } catch {
    return false;
  }
})();

const dir = tempDir('tty');
// 640 training images (20 steps of 32 an epoch) and 128 test images (one batch of 128: the first
// evaluation builds new primitives, seconds of work the old bar counted in epoch 2's first reading).
const data = writeLearnableDataset(join(dir, 'data'), 128);
// One thread: the timing check stays clear of other processes on the cores. No report: drawing it forks
// a child, after which the first step is slower for real (its pages are copy-on-write), not a bar matter.
const trainArgs = (out: string) => ['train', '--data', data, '--out', out, '--log', join(out, 'metrics.jsonl'), '--model', 'vgg11',
  '--width-divisor', '2', '--batch-size', '32', '--epochs', '2', '--display', '4', '--threads', '1', '--backend', 'cpu', '--no-report'];

interface Capture { raw: string; screens: string[][]; scrollback: string[]; code: number | null }

/** Runs the CLI in a COLS x ROWS pseudo-terminal; a snapshot of the screen after every chunk it writes. */
async function runInTerminal(args: string[]): Promise<Capture> {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = `stty cols ${COLS} rows ${ROWS} && exec ${[process.execPath, CLI(), ...args].map(quote).join(' ')}`;
  const term = new xterm.Terminal({ cols: COLS, rows: ROWS, scrollback: 10_000, allowProposedApi: true });
  const lines = (from: number, to: number) => {
    const b = term.buffer.active;
    const out: string[] = [];
    for (let i = from; i < to; i++) out.push(b.getLine(i)?.translateToString(true) ?? '');
    return out;
  };
  const cap: Capture = { raw: '', screens: [], scrollback: [], code: null };
  const child = spawn('script', ['-qec', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let parsed = Promise.resolve();
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    cap.raw += s;
    parsed = parsed.then(() => new Promise<void>((r) => term.write(s, () => {
      const base = term.buffer.active.baseY;
      cap.screens.push(lines(base, base + ROWS));
      r();
    })));
  });
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
  cap.code = await new Promise<number | null>((r) => child.on('close', r));
  await parsed;
  if (err) cap.raw += `\n[script stderr] ${err}`;
  cap.scrollback = lines(0, term.buffer.active.length);
  return cap;
}

const isBar = (l: string) => /^epoch \d+\/2 \[/.test(l);
const TIME = /^(\d+s|\d+m\d\ds|\d+h\d\dm|\d+d\d\dh)$/;
const etas = (bar: string) => {
  const m = /\| epoch ETA (\S+) \| run ETA (\S+) \|/.exec(bar);
  return m ? { epoch: m[1], run: m[2] } : null;
};
const lastNonEmpty = (screen: string[]) => screen.filter((l) => l.trim()).at(-1) ?? '';

describe.skipIf(!hasScript)('vgg-cifar train in a terminal', () => {
  let cap: Capture;
  let out: string;
  beforeAll(async () => {
    out = join(dir, 'run');
    cap = await runInTerminal(trainArgs(out));
  });

  it('runs to the end', () => {
    expect(cap.code, cap.raw.slice(-3000)).toBe(0);
  });

  it('shows one bar for the whole run: started once, stopped once, one line of it left on the screen', () => {
    expect(cap.raw.split('\x1b[?25l')).toHaveLength(2); // cursor hidden once (a new bar hides it again)
    expect(cap.raw.split('\x1b[?25h')).toHaveLength(2);
    const bars = cap.scrollback.filter(isBar);
    expect(bars, cap.scrollback.join('\n')).toHaveLength(1);
    expect(bars[0]).toMatch(/^epoch 2\/2 \[█+\] 20\/20 \| epoch ETA 0s \| run ETA 0s \| [\d.]+ img\/s \| loss \d\.\d{4} \| acc [\d.]+%$/);
  });

  it('prints the report\'s loss lines, the epoch summaries and the checkpoint above the bar', () => {
    const text = cap.scrollback.filter((l) => l.trim());
    const order = [/^vgg-cifar: training vgg11 /, /^Epoch 1 32 \/ 640 Loss \d/, /^Epoch 1 160 \/ 640 Loss/, /^epoch 1: train loss .*test accuracy/,
      /^Epoch 2 32 \/ 640 Loss/, /^epoch 2: train loss .*test accuracy/, /^saved .*cifar10_epoch_2\.safetensors$/, /^epoch 2\/2 \[/];
    let at = -1;
    for (const re of order) {
      const i = text.findIndex((l, k) => k > at && re.test(l));
      expect(i, `${re} after line ${at} in\n${text.join('\n')}`).toBeGreaterThan(at);
      at = i;
    }
    expect(at).toBe(text.length - 1);
    // and so at every moment of the run: nothing is ever written below the bar
    const withBar = cap.screens.filter((s) => s.some(isBar));
    expect(withBar.length).toBeGreaterThan(10);
    for (const s of withBar) expect(isBar(lastNonEmpty(s)), s.join('\n')).toBe(true);
    // a line logged mid-epoch is above the bar as soon as it is on the screen
    const summary = withBar.find((s) => s.some((l) => l.startsWith('epoch 1: train loss')))!;
    expect(summary.findIndex(isBar)).toBeGreaterThan(summary.findIndex((l) => l.startsWith('epoch 1: train loss')));
  });

  it('shows -- until a few steps are measured, then both ETAs as formatted times, never a placeholder', () => {
    const bars = cap.screens.map((s) => s.find(isBar)).filter((l): l is string => l !== undefined);
    expect(etas(bars[0])).toEqual({ epoch: '--', run: '--' });
    const timed = bars.map(etas).filter((e) => e && TIME.test(e.epoch) && TIME.test(e.run));
    expect(timed.length).toBeGreaterThan(5);
    // mid-epoch, with steps left: a time greater than zero, the run's at least the epoch's
    const mid = bars.filter((b) => /\] (\d+)\/20 /.exec(b) && Number(/\] (\d+)\/20 /.exec(b)![1]) < 15).map(etas).filter((e) => e && TIME.test(e.epoch));
    expect(mid.some((e) => e!.epoch !== '0s')).toBe(true);
    for (const b of bars) expect(b).not.toMatch(/NaN|Infinity|NF|LL|\{\w+\}/);
  });

  it('measures the first step of epoch 2 without the evaluation before it: within 2x of the steady rate', () => {
    const readings = readFileSync(join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as ProgressEvent & { kind: string })
      .filter((r) => r.kind === 'step');
    const first = readings.find((r) => r.epoch === 2 && r.stepInEpoch === 1)!;
    const steady = readings.filter((r) => r.stepInEpoch > 1).map((r) => r.imagesPerSecond).sort((a, b) => a - b);
    const median = steady[steady.length >> 1];
    const ratio = first.imagesPerSecond / median;
    expect(ratio, `epoch 2 step 1: ${first.imagesPerSecond.toFixed(1)} img/s, steady ${median.toFixed(1)} img/s`).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });
});

describe('vgg-cifar train off a terminal', () => {
  it('prints plain lines, no bar and no escape sequences', async () => {
    const out = join(dir, 'plain');
    const r = await runCli(['train', '--data', data, '--out', out, '--model', 'vgg11', '--width-divisor', '8', '--epochs', '1', '--batch-size', '64',
      '--display', '5', '--backend', 'cpu', '--no-report', '--test-limit', '32']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.split('\n')).toEqual([
      expect.stringMatching(/^vgg-cifar: run \S+ in .*plain$/),
      expect.stringMatching(/^vgg-cifar: training vgg11 \([\d,]+ parameters\) on .*; 640 training images, 32 test images$/),
      expect.stringMatching(/^Epoch 1 64 \/ 640 Loss \d/),
      expect.stringMatching(/^Epoch 1 384 \/ 640 Loss \d/),
      expect.stringMatching(/^epoch 1: train loss \d\.\d{4}, train accuracy [\d.]+% \(training split\); test accuracy/),
      expect.stringMatching(/cifar10_epoch_1\.safetensors$/),
      '',
    ]);
    expect(r.stdout + r.stderr).not.toMatch(/\x1b/);
  });
});
