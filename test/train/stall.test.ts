import { describe, expect, it } from 'vitest';
import { StallDetector } from '../../lib/train/stall.js';

describe('StallDetector', () => {
  it('warns once after `patience` readings within tolerance of ln 10', () => {
    const d = new StallDetector({ numClasses: 10, patience: 3, tolerance: 0.01 });
    expect(d.observe(2.3026)).toBe(false);
    expect(d.observe(2.31)).toBe(false);
    expect(d.observe(2.2950)).toBe(true);
    expect(d.observe(2.3026)).toBe(false);
    expect(d.stalled).toBe(true);
  });

  it('resets the run when the loss leaves the band', () => {
    const d = new StallDetector({ numClasses: 10, patience: 3, tolerance: 0.01 });
    d.observe(2.3026);
    d.observe(2.3026);
    d.observe(1.9);
    expect(d.observe(2.3026)).toBe(false);
    expect(d.stalled).toBe(false);
  });

  it('explains the report configuration: ReLU on logits, Adam 1e-3 without BatchNorm, dead layers', () => {
    const d = new StallDetector({ numClasses: 10, patience: 1, tolerance: 0.01 });
    d.observe(2.3026);
    const msg = d.message({ optimizer: 'adam', lr: 1e-3, batchNorm: false, reluOnLogits: true, zeroFractions: { 'net.1': 0.5, 'net.29': 1 } });
    expect(msg).toContain('ln(10)');
    expect(msg).toContain('ReLU sits on the logits');
    expect(msg).toContain('without BatchNorm');
    expect(msg).toMatch(/net\.29\s+100\.0%\s+<- dead/);
    expect(msg).toContain('--bn');
    expect(msg).toContain('drop --relu-on-logits');
  });

  it('uses ln(C) for other class counts', () => {
    const d = new StallDetector({ numClasses: 100, patience: 1, tolerance: 0.01 });
    expect(d.target).toBeCloseTo(Math.log(100), 12);
    expect(d.observe(Math.log(10))).toBe(false);
    expect(d.observe(Math.log(100))).toBe(true);
  });
});
