// One optimizer step over VGG16-BN's parameters, per tensor (one native call per parameter: what step()
// did before) against multi-tensor (one *Coefficients and one *UpdateMulti per group: what step() does
// now), on every backend that runs here. On the GPU each timed call runs 20 steps and then waits for the
// device, so the times include the kernels, not only the launches. Not a test: timings depend on the load.
//
//   npx tsc -p tsconfig.json && node dist/bench/optim-multi.js [--steps 20] [--time 1000] [--width-divisor 1]
// (--width-divisor shrinks the model, for rehearsals on the CUDA emulator: native/emu/rehearse.sh)
import { Bench } from 'tinybench';
import { backends, native, type Device, type NativeTensor } from '../lib/backend.js';
import { vgg16 } from '../lib/models/vgg.js';
import { arg } from './argv.js';

const steps = Number(arg('steps', '20'));
const timeMs = Number(arg('time', '1000'));
const widthDivisor = Number(arg('width-divisor', '1'));

type Kind = 'sgd' | 'adam' | 'adagrad';
const STATES: Record<Kind, number> = { sgd: 1, adam: 2, adagrad: 1 };
const sgd = { lr: 0.1, momentum: 0.9, dampening: 0, nesterov: false, weightDecay: 5e-4, maximize: false };
const adam = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 5e-4, decoupled: true, amsgrad: false, maximize: false };
const adagrad = { lr: 0.01, lrDecay: 0, weightDecay: 5e-4, eps: 1e-10, maximize: false };

function shapes(): number[][] {
  const model = vgg16({ batchNorm: true, widthDivisor });
  const s = model.parameters().map((p) => [...p.value.shape]);
  model.dispose();
  return s;
}

async function benchDevice(device: Device, paramShapes: number[][]): Promise<string[]> {
  const live: NativeTensor[] = [];
  const filled = (shape: number[], v: number) => {
    const t = native.empty(device, shape, 'float32');
    native.fill(t, v);
    live.push(t);
    return t;
  };
  const params = paramShapes.map((s) => filled(s, 0.01));
  const grads = paramShapes.map((s) => filled(s, 0.001));
  const coeffs = filled([native.optimizerCoefficientsSize], 0);
  const sink = filled([1], 0);
  const rows: string[] = [];
  for (const kind of ['sgd', 'adam', 'adagrad'] as Kind[]) {
    const st = Array.from({ length: STATES[kind] }, () => paramShapes.map((s) => filled(s, 0.1)));
    let t = 0;
    const perTensor = () => {
      t++;
      params.forEach((p, i) => {
        if (kind === 'sgd') native.sgdUpdate(p, grads[i], st[0][i], { ...sgd, firstStep: t === 1 });
        else if (kind === 'adam') native.adamUpdate(p, grads[i], st[0][i], st[1][i], null, { ...adam, step: t });
        else native.adagradUpdate(p, grads[i], st[0][i], { ...adagrad, step: t });
      });
    };
    const multi = () => {
      t++;
      if (kind === 'sgd') {
        native.sgdCoefficients({ ...sgd, firstStep: t === 1 }, coeffs);
        native.sgdUpdateMulti(params, grads, st[0], coeffs);
      } else if (kind === 'adam') {
        native.adamCoefficients({ ...adam, step: t }, coeffs);
        native.adamUpdateMulti(params, grads, st[0], st[1], null, coeffs);
      } else {
        native.adagradCoefficients({ ...adagrad, step: t }, coeffs);
        native.adagradUpdateMulti(params, grads, st[0], coeffs);
      }
    };
    const ms: Record<string, number> = {};
    for (const [name, fn] of [['per-tensor', perTensor], ['multi', multi]] as const) {
      const bench = new Bench({ time: timeMs, warmupIterations: 2, warmupTime: 0, throws: true });
      bench.add(name, () => {
        for (let k = 0; k < steps; k++) fn();
        if (device !== 'cpu') native.toArray(sink); // waits for the device
      });
      await bench.run();
      const r = bench.tasks[0].result as unknown as { latency: { p50: number } };
      ms[name] = r.latency.p50 / steps;
    }
    rows.push(`| ${device} | ${kind} | ${params.length} | ${ms['per-tensor'].toFixed(3)} | ${ms.multi.toFixed(3)} | ${(ms['per-tensor'] / ms.multi).toFixed(2)}x |`);
    st.flat().forEach((x) => { x.dispose(); live.splice(live.indexOf(x), 1); });
  }
  live.forEach((x) => x.dispose());
  return rows;
}

const paramShapes = shapes();
const total = paramShapes.reduce((a, s) => a + s.reduce((x, y) => x * y, 1), 0);
console.log(`VGG16-BN: ${paramShapes.length} parameter tensors, ${(total / 1e6).toFixed(2)}M values; ms per optimizer step (median of ${steps}-step runs)\n`);
console.log('| device | optimizer | tensors | per-tensor ms | multi ms | speed-up |\n|---|---|---:|---:|---:|---:|');
for (const b of backends()) {
  if (!b.available) {
    console.log(`| ${b.device} | not run: ${b.reason} | | | | |`);
    continue;
  }
  for (const row of await benchDevice(b.device, paramShapes)) console.log(row);
}
