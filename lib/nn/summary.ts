// torchsummary's table (github.com/sksq96/pytorch-summary), computed from shapes alone (no ops run):
// one row per leaf module in forward order, numbered by position; sizes assume 4-byte floats:
//   input size = prod(input) * 4 B (batch 1), forward/backward = 2 * sum(outputs) * 4 B (outputs and
//   their gradients), params = total params * 4 B; MB = 2^20 bytes; printed with %0.2f.
import type { Module } from './module.js';
import { numel } from './module.js';

export interface SummaryRow {
  /** torchsummary's key, e.g. 'Conv2d-1'. */
  layer: string;
  type: string;
  /** State-dict prefix of the module, e.g. 'net.0'. */
  name: string;
  /** With -1 for the batch dimension. */
  outputShape: number[];
  params: number;
  trainable: boolean;
}

export interface Summary {
  rows: SummaryRow[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  inputSizeMB: number;
  forwardBackwardSizeMB: number;
  paramsSizeMB: number;
  totalSizeMB: number;
  text: string;
}

const MB = 1024 ** 2;
const LINE = '-'.repeat(64);
const DOUBLE = '='.repeat(64);

export function summary(model: Module, inputSize: readonly number[] = [3, 32, 32]): Summary {
  if (inputSize.length < 1 || inputSize.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new RangeError(`summary: input size must be positive integers like [3, 32, 32], got [${inputSize.join(', ')}]`);
  }
  const rows: SummaryRow[] = [];
  let shape = [1, ...inputSize];
  const visit = (m: Module, name: string): void => {
    const kids = m.children();
    if (kids.length > 0) {
      for (const [n, c] of kids) visit(c, name ? `${name}.${n}` : n);
      return;
    }
    shape = m.outputShape(shape);
    const ps = m.localParams();
    rows.push({
      layer: `${m.typeName}-${rows.length + 1}`,
      type: m.typeName,
      name,
      outputShape: [-1, ...shape.slice(1)],
      params: ps.reduce((s, p) => s + p.value.size, 0),
      trainable: ps.length > 0,
    });
  };
  visit(model, '');
  const totalParams = rows.reduce((s, r) => s + r.params, 0);
  const trainableParams = rows.reduce((s, r) => s + (r.trainable ? r.params : 0), 0);
  const totalOutput = rows.reduce((s, r) => s + numel(r.outputShape.slice(1)), 0);
  const inputSizeMB = (numel(inputSize) * 4) / MB;
  const forwardBackwardSizeMB = (2 * totalOutput * 4) / MB;
  const paramsSizeMB = (totalParams * 4) / MB;
  const totalSizeMB = paramsSizeMB + forwardBackwardSizeMB + inputSizeMB;
  const s: Omit<Summary, 'text'> = {
    rows, totalParams, trainableParams, nonTrainableParams: totalParams - trainableParams,
    inputSizeMB, forwardBackwardSizeMB, paramsSizeMB, totalSizeMB,
  };
  return { ...s, text: formatSummary(s) };
}

export function formatSummary(s: Omit<Summary, 'text'>): string {
  const lines = [LINE, `${'Layer (type)'.padStart(20)}  ${'Output Shape'.padStart(25)} ${'Param #'.padStart(15)}`, DOUBLE];
  for (const r of s.rows) {
    lines.push(`${r.layer.padStart(20)}  ${pyList(r.outputShape).padStart(25)} ${thousands(r.params).padStart(15)}`);
  }
  lines.push(
    DOUBLE,
    `Total params: ${thousands(s.totalParams)}`,
    `Trainable params: ${thousands(s.trainableParams)}`,
    `Non-trainable params: ${thousands(s.nonTrainableParams)}`,
    LINE,
    `Input size (MB): ${fixed2(s.inputSizeMB)}`,
    `Forward/backward pass size (MB): ${fixed2(s.forwardBackwardSizeMB)}`,
    `Params size (MB): ${fixed2(s.paramsSizeMB)}`,
    `Estimated Total Size (MB): ${fixed2(s.totalSizeMB)}`,
    LINE,
  );
  return lines.join('\n') + '\n';
}

/** Python's str() of a list of ints: [-1, 64, 32, 32]. */
const pyList = (a: readonly number[]): string => `[${a.join(', ')}]`;

/** Python's '{0:,}'. */
export const thousands = (n: number): string => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');

/** Python's '%0.2f': exact binary value, ties (x = odd/8) to even, unlike toFixed which rounds them up. */
export function fixed2(x: number): string {
  const e = x * 8;
  if (Number.isInteger(e) && e % 2 !== 0) {
    const h = Math.floor(x * 100);
    return ((h % 2 === 0 ? h : h + 1) / 100).toFixed(2);
  }
  return x.toFixed(2);
}
