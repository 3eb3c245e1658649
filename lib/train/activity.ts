// Fraction of exactly-zero ReLU outputs per layer (dead ReLUs), read from the last forward pass.
// A host read of every activation: only for diagnostics (the stall warning), never per step.
import type { Module } from '../nn/module.js';
import { toFloat32, type Tensor } from '../tensor.js';

export function reluZeroFractions(model: Module): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, m] of model.namedModules()) {
    if (m.typeName !== 'ReLU') continue;
    const y = (m as unknown as { lastY: Tensor | null }).lastY;
    if (!y || y.disposed) continue;
    const a = toFloat32(y);
    let zeros = 0;
    for (let i = 0; i < a.length; i++) if (a[i] === 0) zeros++;
    out[name] = a.length ? zeros / a.length : 0;
  }
  return out;
}
