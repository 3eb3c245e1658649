// The text of the training bar: durations as 1m23s / 2h05m, and the bar's line fitted to the terminal.

const pad2 = (n: number) => String(n).padStart(2, '0');

/** `--` when unknown (NaN, Infinity, negative); then 42s, 1m23s, 2h05m, 3d04h: two units, the smaller
 *  rounded, so the text stays short and never shows a unit that is noise at that scale. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${pad2(s % 60)}s`;
  const m = Math.round(seconds / 60);
  if (m < 24 * 60) return `${Math.floor(m / 60)}h${pad2(m % 60)}m`;
  const h = Math.round(seconds / 3600);
  return `${Math.floor(h / 24)}d${pad2(h % 24)}h`;
}

export interface BarFields {
  epoch: number; // 1-based
  epochs: number;
  stepInEpoch: number;
  stepsPerEpoch: number;
  /** Seconds to the end of this epoch's steps and to the end of the run; NaN while unknown. */
  epochEta: number;
  runEta: number;
  /** From the last loss reading; NaN before the first. */
  imagesPerSecond: number;
  loss: number;
  accuracy: number; // 0-1
}

export const BAR_MIN = 10;
export const BAR_MAX = 40;

const num = (v: number, digits: number) => (Number.isFinite(v) ? v.toFixed(digits) : '--');

/** One line of at most `width - 1` columns (the last column is left free so that no terminal wraps):
 *  `epoch 2/30 [bar] 312/1563 | epoch ETA 1m23s | run ETA 2h05m | 217.9 img/s | loss 1.2345 | acc 55.1%`.
 *  The bar takes what is left (BAR_MIN to BAR_MAX columns); on a narrow terminal the last fields go
 *  first, then the line is cut. `bar(size)` draws a bar of `size` columns. */
export function progressLine(f: BarFields, width: number, bar: (size: number) => string): string {
  const room = Math.max(1, Math.floor(width) - 1);
  const head = `epoch ${f.epoch}/${f.epochs} `;
  const count = ` ${f.stepInEpoch}/${f.stepsPerEpoch}`;
  const fields = [
    `epoch ETA ${formatDuration(f.epochEta)}`,
    `run ETA ${formatDuration(f.runEta)}`,
    `${num(f.imagesPerSecond, 1)} img/s`,
    `loss ${num(f.loss, 4)}`,
    `acc ${Number.isFinite(f.accuracy) ? `${(100 * f.accuracy).toFixed(1)}%` : '--'}`,
  ];
  const textWidth = (n: number) => head.length + 2 + count.length + fields.slice(0, n).reduce((a, s) => a + 3 + s.length, 0);
  let n = fields.length;
  while (n > 0 && textWidth(n) + BAR_MIN > room) n--;
  const size = Math.max(BAR_MIN, Math.min(BAR_MAX, room - textWidth(n)));
  const line = `${head}[${bar(size)}]${count}` + fields.slice(0, n).map((s) => ` | ${s}`).join('');
  return line.slice(0, room);
}
