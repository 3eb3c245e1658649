// PyTorch parity, run by hand where PyTorch is installed (not part of the vitest suite):
//   npx tsc -p tsconfig.json && node test/pytorch/parity.mjs /tmp/parity && python3 test/pytorch/parity.py /tmp/parity
// Saves the report's VGG16 (and a BN variant) as safetensors, the input, our first logits and three
// training losses with Adam, Adagrad and SGD+momentum; parity.py loads the weights strictly into the
// report's PyTorch class (minus its last ReLU), repeats the three steps with torch.optim and compares.
// Learning rates are small enough that the 3 steps do not diverge (a diverging run amplifies any rounding).
// Measured 2026-11-28 (PyTorch 1.13 CPU): with VGG_CIFAR_CONV_ALGO=direct (PyTorch's CPU build uses direct
// convolutions) losses agree to ~1e-6 and weights after 3 steps to 1.5e-5 (Adam), 4e-4 (Adagrad), 7e-6 (SGD
// + BN) worst tensor; with the default Winograd convolutions the BN model's first logits differ by 2e-5
// (5e-6 direct), losses by up to 3e-4 after 3 steps, and the worst tensor by 5e-4 (Adam), 1.5e-2 (Adagrad)
// and 1.5e-2 (SGD + BN, a bias), medians 6e-6 / 3e-3 / 4e-5: every op within 1e-4 of float64, but Winograd
// rounds differently from PyTorch's kernels and training trajectories drift apart accordingly.
import { mkdirSync } from 'node:fs';
import * as v from '../../dist/lib/index.js';
const dir = process.argv[2] ?? '/tmp/vgg-parity';
mkdirSync(dir, { recursive: true });
const N = 4;
const rnd = new v.Rng(123);
const x = Float32Array.from({ length: N * 3 * 32 * 32 }, () => rnd.uniform());
const labels = Int32Array.from({ length: N }, () => rnd.int(10));
for (const kind of ['adam', 'adagrad', 'sgd']) {
  const m = v.vgg16({ batchNorm: kind === 'sgd' });
  v.initialize(m, { scheme: 'xavier_uniform', seed: 1 });
  v.saveCheckpoint(`${dir}/${kind}-init.safetensors`, { model: m });
  const opt = v.createOptimizer(m.parameters(), { kind, lr: kind === 'sgd' ? 0.005 : 1e-4, momentum: 0.9, noDecayOnBiasAndNorm: false });
  const xt = v.fromFloat32('cpu', [N, 3, 32, 32], x);
  const yt = v.fromInt32('cpu', [N], labels);
  const out = m.build('cpu', [N, 3, 32, 32]);
  const loss = new v.SoftmaxCrossEntropyLoss();
  loss.build('cpu', out);
  const losses = [];
  let logits0;
  for (let s = 0; s < 3; s++) {
    const lg = m.forward(xt);
    if (s === 0) logits0 = v.toFloat32(lg);
    m.backward(loss.forward(lg, yt));
    losses.push(loss.read().loss);
    opt.step();
  }
  v.saveCheckpoint(`${dir}/${kind}-after.safetensors`, { model: m });
  const io = new Map([
    ['x', { dtype: 'F32', shape: [N, 3, 32, 32], data: x }],
    ['labels', { dtype: 'I32', shape: [N], data: labels }],
    ['logits0', { dtype: 'F32', shape: [N, 10], data: logits0 }],
    ['losses', { dtype: 'F64', shape: [3], data: Float64Array.from(losses) }],
  ]);
  (await import('node:fs')).writeFileSync(`${dir}/${kind}-io.safetensors`, v.serializeSafetensors(io));
  console.log(kind, losses);
}

if (process.argv.includes('--from-torch')) {
  const ck = v.loadCheckpoint(`${dir}/torch-sd.safetensors`);
  const m = v.vgg16({ batchNorm: true });
  v.restoreCheckpoint(ck, m); // strict
  const io = v.readSafetensors(`${dir}/torch-io.safetensors`).tensors;
  m.eval();
  m.build('cpu', [2, 3, 32, 32]);
  const got = v.toFloat32(m.forward(v.fromFloat32('cpu', [2, 3, 32, 32], io.get('x').data)));
  const want = io.get('logits').data;
  let num = 0, den = 0;
  for (let i = 0; i < want.length; i++) { num = Math.max(num, Math.abs(got[i] - want[i])); den = Math.max(den, Math.abs(want[i])); }
  console.log('PyTorch state dict loaded strictly; eval logits rel err', num / den, 'num_batches_tracked', m.net.layers[1].numBatchesTracked);
}
