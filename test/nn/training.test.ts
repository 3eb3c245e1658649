// Training steps through the layer graph: no device allocation in the steady state (also across batch
// sizes once each was built), checkpoints that resume to the same weights, save -> load -> identical
// outputs, and clear errors for wrong or damaged checkpoints.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { fromFloat32, fromInt32, type Tensor } from '../../lib/tensor.js';
import { modelFromConfig, vgg, type Vgg, type VggConfig } from '../../lib/models/vgg.js';
import { initialize } from '../../lib/nn/init.js';
import { SoftmaxCrossEntropyLoss } from '../../lib/nn/loss.js';
import { loadCheckpoint, restoreCheckpoint, saveCheckpoint, OPTIMIZER_PREFIX } from '../../lib/nn/checkpoint.js';
import { readSafetensors } from '../../lib/nn/safetensors.js';
import { stateDict } from '../../lib/nn/state.js';
import { createOptimizer, type OptimizerSpec } from '../../lib/optim/index.js';
import { rand, randInt } from '../helpers/check.js';

const dir = mkdtempSync(join(tmpdir(), 'vgg-ck-'));
const live: Array<{ dispose(): void }> = [];
afterAll(() => {
  live.forEach((t) => t.dispose());
  rmSync(dir, { recursive: true, force: true });
});

const OPTS = { depth: 11 as const, widthDivisor: 8, batchNorm: true, classifier: 'standard' as const, hidden: 32, dropout: 0.3 };
const SPEC: OptimizerSpec = { kind: 'adamw', lr: 1e-3, weightDecay: 0.01 };

function batch(step: number, n: number): { x: Tensor; y: Tensor } {
  const x = fromFloat32('cpu', [n, 3, 32, 32], Float32Array.from(rand(n * 3 * 32 * 32, 100 + step)));
  const y = fromInt32('cpu', [n], randInt(n, 200 + step, 10));
  live.push(x, y);
  return { x, y };
}

class Trainer {
  readonly loss = new SoftmaxCrossEntropyLoss();
  readonly opt;
  constructor(readonly model: Vgg) {
    this.opt = createOptimizer(model.parameters(), SPEC);
    live.push(this.loss, this.opt, model);
  }
  step(b: { x: Tensor; y: Tensor }): void {
    const out = this.model.build('cpu', b.x.shape);
    this.loss.build('cpu', out);
    const logits = this.model.forward(b.x);
    this.model.backward(this.loss.forward(logits, b.y)!);
    this.opt.step();
  }
}

function fresh(seed = 5): Trainer {
  const m = vgg(OPTS);
  initialize(m, { scheme: 'kaiming_normal', mode: 'fan_out', seed });
  return new Trainer(m);
}

/** Every state-dict value of a model, flattened (BN counts included). */
const weights = (m: Vgg): Float64Array => Float64Array.from([...stateDict(m).values()].flatMap((t) => Array.from(t.data as ArrayLike<number | bigint>, Number)));

/** Index of the first differing element, or -1 (cheap to report, unlike a deep-equality diff). */
function firstDiff(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return -2;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe('training steps', () => {
  it('steady-state steps allocate nothing, across two batch sizes', () => {
    const t = fresh();
    const b4 = batch(0, 4);
    const b2 = batch(1, 2);
    t.step(b4);
    t.step(b2);
    const bytes = native.liveBytes('cpu');
    for (let i = 0; i < 3; i++) {
      t.step(b4);
      t.step(b2);
    }
    expect(native.liveBytes('cpu')).toBe(bytes);
    // the loss read-out costs nothing on the device either
    const r = t.loss.read();
    expect(r.batches).toBe(8);
    expect(r.samples).toBe(24);
    expect(Number.isFinite(r.loss) && r.loss > 0).toBe(true);
    expect(native.liveBytes('cpu')).toBe(bytes);
  });

  it('training lowers the loss on a fixed batch (the graph learns)', () => {
    const t = fresh(9);
    const b = batch(7, 8);
    t.step(b);
    const first = t.loss.read().loss;
    for (let i = 0; i < 15; i++) t.step(b);
    t.loss.read();
    t.step(b);
    expect(t.loss.read().loss).toBeLessThan(first * 0.8);
  });

  it('a checkpoint resumes to bit-identical weights (optimizer state, BN stats, dropout RNG)', () => {
    const a = fresh();
    for (let s = 0; s < 2; s++) a.step(batch(s, 4));
    const path = join(dir, 'resume.safetensors');
    saveCheckpoint(path, { model: a.model, optimizer: a.opt, epoch: 3, step: 2, rng: { shuffle: [1, 2, 3, 4] }, extra: { note: 'x' } });
    for (let s = 2; s < 4; s++) a.step(batch(s, 4));

    const ck = loadCheckpoint(path);
    expect(ck.epoch).toBe(3);
    expect(ck.step).toBe(2);
    expect(ck.rng).toEqual({ shuffle: [1, 2, 3, 4] });
    expect(ck.extra).toEqual({ note: 'x' });
    expect(ck.config).toEqual(a.model.config);
    const b = new Trainer(modelFromConfig(ck.config as VggConfig));
    restoreCheckpoint(ck, b.model, b.opt);
    for (let s = 2; s < 4; s++) b.step(batch(s, 4));
    expect(firstDiff(weights(b.model), weights(a.model))).toBe(-1);
  });

  it('save -> load gives identical outputs (eval mode)', () => {
    const a = fresh(13);
    a.step(batch(0, 4));
    const path = join(dir, 'weights.safetensors');
    saveCheckpoint(path, { model: a.model });
    const b = new Trainer(vgg(OPTS));
    restoreCheckpoint(loadCheckpoint(path), b.model);
    const x = batch(9, 3).x;
    const outs = [a, b].map((t) => {
      t.model.eval();
      t.model.build('cpu', x.shape);
      return Array.from(native.toArray(t.model.forward(x)) as Float32Array);
    });
    expect(outs[1]).toEqual(outs[0]);
    expect(outs[0].some((v) => v !== 0)).toBe(true);
    // the weights-only file is exactly the PyTorch state dict (strict load_state_dict works)
    const file = readSafetensors(path);
    expect([...file.tensors.keys()]).toEqual([...stateDict(a.model).keys()]);
    expect(file.metadata.format).toBe('pt');
  });

  it('the report model checkpoint has PyTorch names; optimizer state is prefixed', () => {
    const m = vgg();
    const opt = createOptimizer(m.parameters(), { kind: 'adagrad', lr: 0.01 });
    live.push(m, opt);
    const path = join(dir, 'report.safetensors');
    saveCheckpoint(path, { model: m, optimizer: opt, epoch: 0, step: 0 });
    const f = readSafetensors(path);
    const names = [...f.tensors.keys()];
    const model = names.filter((n) => !n.startsWith(OPTIMIZER_PREFIX));
    expect(model[0]).toBe('net.0.weight');
    expect(model[model.length - 1]).toBe('net.36.bias');
    expect(model.length).toBe(32);
    expect(names).toContain('optimizer.state.net.0.weight.sum');
    expect(f.tensors.get('net.0.weight')!.shape).toEqual([64, 3, 3, 3]);
  });

  it('a checkpoint of another model is refused with every mismatch in one error', () => {
    const path = join(dir, 'other.safetensors');
    const other = vgg({ ...OPTS, batchNorm: false });
    live.push(other);
    saveCheckpoint(path, { model: other });
    const t = fresh();
    expect(() => restoreCheckpoint(loadCheckpoint(path), t.model)).toThrow(
      new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: error\\(s\\) loading the state dict:\\n  missing keys \\(\\d+\\): .*net\\.1\\.running_mean.*\\n  unexpected keys.*\\n  wrong shape or dtype`),
    );
  });

  it('a truncated checkpoint gives a clear error naming the file', () => {
    const a = fresh();
    const path = join(dir, 'cut.safetensors');
    saveCheckpoint(path, { model: a.model, optimizer: a.opt });
    const bytes = readFileSync(path);
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    expect(() => loadCheckpoint(path)).toThrow(`${path}: not a valid safetensors file: truncated`);
    expect(() => loadCheckpoint(join(dir, 'absent.safetensors'))).toThrow(/absent\.safetensors: cannot read the checkpoint: ENOENT/);
  });
});
