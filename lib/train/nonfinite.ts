// Where NaN/Inf first show up once the training loss has gone non-finite. Runs only on that (last)
// step, never on the per-step path: native.sumSquares over each parameter's gradient (NaN/Inf
// propagate into the sum), then a host scan of the flagged tensor to tell a real NaN/Inf from a sum
// that merely overflowed float32.
import { native } from '../backend.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor.js';

export interface NonFiniteReport {
  /** Parameters whose gradient holds NaN/Inf, in backward order (from the loss towards the input). */
  gradients: string[];
  /** Parameters whose value holds NaN/Inf. */
  weights: string[];
  /** Human summary naming the layer where the gradients first go bad. */
  message: string;
}

function hasNonFinite(t: Tensor, acc: Tensor): boolean {
  native.sumSquares(t, acc, false);
  if (Number.isFinite((native.toArray(acc) as Float32Array)[0])) return false;
  return !(native.toArray(t) as Float32Array).every(Number.isFinite);
}

export function findNonFinite(model: Module): NonFiniteReport {
  const params = model.parameters();
  const types = new Map(model.namedModules().map(([n, m]) => [n.replace(/\.$/, ''), m.typeName]));
  const layer = (name: string) => {
    const mod = name.slice(0, name.lastIndexOf('.'));
    return `${name} (${types.get(mod) ?? 'layer'} ${mod})`;
  };
  const out: NonFiniteReport = { gradients: [], weights: [], message: '' };
  if (params.length === 0) return { ...out, message: 'the model has no parameters' };
  const acc = native.empty(params[0].value.device, [1], 'float32');
  try {
    for (const p of [...params].reverse()) if (!p.grad.disposed && hasNonFinite(p.grad, acc)) out.gradients.push(p.name);
    for (const p of params) if (hasNonFinite(p.value, acc)) out.weights.push(p.name);
  } finally {
    acc.dispose();
  }
  const g = out.gradients.length
    ? `the gradients first go non-finite at ${layer(out.gradients[0])} (counting back from the loss; ${out.gradients.length} of ${params.length} parameter gradients hold NaN/Inf)`
    : 'every parameter gradient is finite (the forward pass overflowed)';
  const w = out.weights.length ? `; non-finite weights from ${layer(out.weights[0])} on (${out.weights.length} of ${params.length})` : '; the weights are still finite';
  out.message = g + w;
  return out;
}
