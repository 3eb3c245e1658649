// The training bar's text: durations, and the line fitted to the terminal's width.
import { describe, expect, it } from 'vitest';
import { BAR_MAX, BAR_MIN, formatDuration, progressLine, type BarFields } from '../../lib/cli/progress-format.js';

describe('formatDuration', () => {
  it('writes seconds, then minutes and seconds, hours and minutes, days and hours', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(83)).toBe('1m23s');
    expect(formatDuration(3599)).toBe('59m59s');
    expect(formatDuration(7500)).toBe('2h05m');
    expect(formatDuration(23 * 3600 + 59 * 60)).toBe('23h59m');
    expect(formatDuration(3 * 86400 + 4 * 3600)).toBe('3d04h');
  });

  it('rounds into the next unit instead of showing 60 of the smaller one', () => {
    expect(formatDuration(59.6)).toBe('1m00s');
    expect(formatDuration(3599.6)).toBe('1h00m');
    expect(formatDuration(2 * 3600 - 10)).toBe('2h00m');
    expect(formatDuration(86400 - 20)).toBe('1d00h');
  });

  it('says -- for what is not known', () => {
    for (const v of [NaN, Infinity, -Infinity, -1]) expect(formatDuration(v)).toBe('--');
  });
});

describe('progressLine', () => {
  const f: BarFields = { epoch: 2, epochs: 30, stepInEpoch: 312, stepsPerEpoch: 1563, epochEta: 83, runEta: 7500,
    imagesPerSecond: 217.94, loss: 1.23456, accuracy: 0.5512 };
  const sizes: number[] = [];
  const bar = (n: number) => {
    sizes.push(n);
    return '#'.repeat(n);
  };

  it('shows every field, the bar taking what is left of a wide terminal up to BAR_MAX', () => {
    sizes.length = 0;
    const line = progressLine(f, 200, bar);
    expect(line).toBe(`epoch 2/30 [${'#'.repeat(BAR_MAX)}] 312/1563 | epoch ETA 1m23s | run ETA 2h05m | 217.9 img/s | loss 1.2346 | acc 55.1%`);
    expect(sizes).toEqual([BAR_MAX]);
  });

  it('fills the width but its last column with a narrower bar', () => {
    const full = progressLine(f, 200, bar).length - BAR_MAX;
    sizes.length = 0;
    const line = progressLine(f, full + 20 + 1, bar);
    expect(sizes).toEqual([20]);
    expect(line.length).toBe(full + 20);
    expect(line).toMatch(/acc 55\.1%$/);
  });

  it('on a narrow terminal keeps the ETAs and drops the last fields first', () => {
    const line = progressLine(f, 80, bar);
    expect(line.length).toBeLessThanOrEqual(79);
    expect(line).toContain('epoch ETA 1m23s | run ETA 2h05m');
    expect(line).not.toContain('loss');
    expect(line).toContain(`[${'#'.repeat(BAR_MIN)}`);
    expect(progressLine(f, 20, bar)).toHaveLength(19);
  });

  it('shows -- for what is not known yet', () => {
    const line = progressLine({ ...f, epochEta: NaN, runEta: NaN, imagesPerSecond: NaN, loss: NaN, accuracy: NaN }, 200, bar);
    expect(line).toMatch(/\| epoch ETA -- \| run ETA -- \| -- img\/s \| loss -- \| acc --$/);
  });
});
