// Every op of the native surface on the GPU against the CPU backend, fp32 with TF32 off: relative error
// <= 1e-4; RNG-driven ops (dropout masks, crops, flips) and integer results bit-exact.
import { expect, it } from 'vitest';
import { native } from '../../lib/backend.js';
import { f32, rand, randInt } from '../helpers/check.js';
import { poolOutShape } from '../ref/pool.js';
import { convCases, describeGpu, gpu, outShape, parity, poolCases, runOn } from './parity.js';

const numel = (s: number[]) => s.reduce((a, b) => a * b, 1);
const randT = (shape: number[], seed: number, lo = -1, hi = 1) => ({ shape, data: f32(rand(numel(shape), seed, lo, hi)) });
const act = (shape: number[], seed: number) => ({ ...randT(shape, seed), act: true });
const out = (shape: number[], a = false) => ({ shape, act: a });


describeGpu('cuda ops match the cpu backend', () => {
  it.each(convCases)('conv2d forward/backward $x * $w', ({ x, w, p }) => {
    const y = outShape(x, w, p);
    for (const relu of [false, true])
      parity({ x: act(x, 1), w: randT(w, 2), b: randT([w[0]], 3), y: out(y, true) }, ['y'], (t) => native.conv2dForward(t.x!, t.w!, t.b, t.y!, p, relu));
    parity({ x: act(x, 4), w: randT(w, 5), y: out(y, true) }, ['y'], (t) => native.conv2dForward(t.x!, t.w!, null, t.y!, p, false));
    parity({ dy: act(y, 6), w: randT(w, 7), dx: out(x, true) }, ['dx'], (t) => native.conv2dBackwardData(t.dy!, t.w!, t.dx!, p));
    parity({ x: act(x, 8), dy: act(y, 9), dw: out(w), db: out([w[0]]) }, ['dw', 'db'], (t) =>
      native.conv2dBackwardFilter(t.x!, t.dy!, t.dw!, t.db, p));
  });

  it.each(poolCases)('maxPool2d forward/backward $x', ({ x, p }) => {
    const y = poolOutShape(x, p);
    const specs = { x: act(x, 11), y: out(y, true), dy: act(y, 12), dx: out(x, true) };
    parity(specs, ['y', 'dx'], (t) => {
      const dev = t.x!.device;
      const ws = native.empty(dev, [Math.max(1, native.maxPool2dWorkspaceSize(t.x!, t.y!, p))], 'uint8');
      native.maxPool2dForward(t.x!, t.y!, ws, p);
      native.maxPool2dBackward(t.dy!, t.x!, t.y!, ws, t.dx!, p);
      ws.dispose();
    });
  });

  it.each([[5, 7, 3], [32, 512, 10], [3, 4096, 4096]])('linear forward/backward N=%i K=%i M=%i', (n, k, m) => {
    for (const relu of [false, true])
      parity({ x: randT([n, k], 21), w: randT([m, k], 22), b: randT([m], 23), y: out([n, m]) }, ['y'], (t) =>
        native.linearForward(t.x!, t.w!, t.b, t.y!, relu));
    parity({ x: randT([n, k], 24), w: randT([m, k], 25), dy: randT([n, m], 26), dx: out([n, k]), dw: out([m, k]), db: out([m]) },
      ['dx', 'dw', 'db'], (t) => native.linearBackward(t.x!, t.w!, t.dy!, t.dx, t.dw!, t.db));
  });

  it('relu, dropout (same mask as the cpu) and axpby', () => {
    const s = [3, 5, 7, 6];
    parity({ x: act(s, 31), y: out(s, true) }, ['y'], (t) => native.reluForward(t.x!, t.y!));
    parity({ y: act(s, 32), dy: act(s, 33), dx: out(s, true) }, ['dx'], (t) => native.reluBackward(t.y!, t.dy!, t.dx!));
    const d = [7, 301];
    const r = parity({ x: randT(d, 34), mask: { shape: d, dtype: 'uint8' }, y: out(d) }, ['mask', 'y'], (t) =>
      native.dropoutForward(t.x!, t.mask!, t.y!, 0.3, 12345));
    const kept = Array.from(r.cuda.mask).reduce((a, b) => a + b, 0) / r.cuda.mask.length;
    expect(kept).toBeGreaterThan(0.6);
    expect(kept).toBeLessThan(0.8);
    const mask = r.cpu.mask as Uint8Array;
    parity({ dy: randT(d, 35), mask: { shape: d, dtype: 'uint8', data: mask }, dx: out(d) }, ['dx'], (t) =>
      native.dropoutBackward(t.dy!, t.mask!, t.dx!, 0.3));
    parity({ x: randT(d, 36), y: randT(d, 37) }, ['y'], (t) => native.axpby(t.x!, t.y!, 0.7, -1.3));
  });

  it.each([[4, 8, 5, 5], [16, 64, 8, 8], [3, 3, 1, 7]])('batchNorm2d training, eval (with and without fused ReLU) and backward [%i, %i, %i, %i]', (...s) => {
    const c = s[1];
    const specs = () => ({ x: act(s, 41), gamma: randT([c], 42, 0.5, 1.5), beta: randT([c], 43), rm: randT([c], 44), rv: randT([c], 45, 0.5, 2),
      y: out(s, true), mean: out([c]), invStd: out([c]) });
    for (const training of [true, false])
      for (const relu of [false, true])
        parity(specs(), training ? ['y', 'mean', 'invStd', 'rm', 'rv'] : ['y'], (t) =>
          native.batchNorm2dForward(t.x!, t.gamma!, t.beta!, t.rm!, t.rv!, t.y!, t.mean!, t.invStd!, { training, momentum: 0.1, eps: 1e-5, relu }));
    parity({ ...specs(), dy: act(s, 46), dx: out(s, true), dgamma: out([c]), dbeta: out([c]) }, ['dx', 'dgamma', 'dbeta'], (t) => {
      native.batchNorm2dForward(t.x!, t.gamma!, t.beta!, t.rm!, t.rv!, t.y!, t.mean!, t.invStd!, { training: true, momentum: 0.1, eps: 1e-5 });
      native.batchNorm2dBackward(t.x!, t.dy!, t.gamma!, t.mean!, t.invStd!, t.dx!, t.dgamma!, t.dbeta!, 1e-5);
    });
  });

  it.each([[8, 10], [300, 10], [5, 1000]])('softmax cross-entropy, softmax, argmax, correct count, sum of squares [%i, %i]', (n, k) => {
    const logits = randT([n, k], 51, -4, 4);
    const labels = { shape: [n], dtype: 'int32' as const, data: randInt(n, 52, k) };
    for (const smoothing of [0, 0.1])
      for (const accumulate of [false, true])
        parity({ logits, labels, d: out([n, k]), loss: { shape: [1], data: f32([0.25]) } }, ['d', 'loss'], (t) =>
          native.softmaxCrossEntropy(t.logits!, t.labels!, t.d, t.loss!, smoothing, accumulate));
    parity({ logits, p: out([n, k]) }, ['p'], (t) => native.softmax(t.logits!, t.p!));
    parity({ logits, i: { shape: [n], dtype: 'int32' } }, ['i'], (t) => native.argmax(t.logits!, t.i!));
    for (const accumulate of [false, true])
      parity({ logits, labels, c: { shape: [1], dtype: 'int32', data: Int32Array.of(7) } }, ['c'], (t) =>
        native.countCorrect(t.logits!, t.labels!, t.c!, accumulate));
    parity({ logits, s: { shape: [1], data: f32([2]) } }, ['s'], (t) => native.sumSquares(t.logits!, t.s!, true));
  });

  it('optimizer updates over three steps (SGD, Adam, AdamW, AMSGrad, Adagrad)', () => {
    const n = 1003;
    const state = () => ({ p: randT([n], 61), g: randT([n], 62), m: randT([n], 63), v: randT([n], 64, 0.01, 1), vmax: randT([n], 65, 0.01, 1) });
    for (const [momentum, nesterov, wd, dampening] of [[0.9, false, 0, 0], [0.9, true, 1e-2, 0], [0.5, false, 1e-3, 0.1], [0, false, 1e-2, 0]] as const)
      parity(state(), ['p', 'm'], (t) => {
        for (let step = 1; step <= 3; step++)
          native.sgdUpdate(t.p!, t.g!, t.m, { lr: 0.1, momentum, dampening, nesterov, weightDecay: wd, maximize: false, firstStep: step === 1 });
      });
    for (const [decoupled, amsgrad, maximize] of [[false, false, false], [true, false, false], [false, true, true], [true, true, false]])
      parity(state(), ['p', 'm', 'v', 'vmax'], (t) => {
        for (let step = 1; step <= 3; step++)
          native.adamUpdate(t.p!, t.g!, t.m!, t.v!, amsgrad ? t.vmax : null,
            { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled, amsgrad, maximize, step });
      });
    parity(state(), ['p', 'v'], (t) => {
      for (let step = 1; step <= 3; step++)
        native.adagradUpdate(t.p!, t.g!, t.v!, { lr: 0.01, lrDecay: 0.01, weightDecay: 0.001, eps: 1e-10, maximize: false, step });
    });
  });

  it('loadBatch and gatherLabels draw the same crops and flips as the cpu', () => {
    const ds = [50, 3, 9, 11];
    const images = Uint8Array.from(rand(numel(ds), 71, 0, 256), (v) => Math.floor(v));
    const idx = Int32Array.of(3, 49, 0, 17, 17, 8, 22);
    for (const [cropPad, padMode, flip, mean, std, cutout] of [
      [0, 'zero', false, [], [], 0], [4, 'zero', true, [0.49, 0.48, 0.45], [0.25, 0.24, 0.26], 0], [3, 'reflect', true, [], [], 0],
      [4, 'reflect', true, [0.49, 0.48, 0.45], [0.25, 0.24, 0.26], 6], [0, 'zero', false, [], [], 5],
    ] as const) {
      const p = { scale: 1 / 255, mean: [...mean], std: [...std], cropPad, padMode, flip, seed: 99, cutout };
      parity({ ds: { shape: ds, dtype: 'uint8', data: images }, i: { shape: [7], dtype: 'int32', data: idx }, o: out([7, 3, 9, 11]) }, ['o'],
        (t) => native.loadBatch(t.ds!, t.i!, t.o!, p), 0);
    }
    const labels = Uint8Array.from(randInt(50, 72, 10));
    parity({ l: { shape: [50], dtype: 'uint8', data: labels }, i: { shape: [7], dtype: 'int32', data: idx }, o: { shape: [7], dtype: 'int32' } },
      ['o'], (t) => native.gatherLabels(t.l!, t.i!, t.o!));
  });

  it('cast float32 <-> bfloat16 gives the same bits as the cpu backend', () => {
    const x = Float32Array.from([...rand(5000, 93, -100, 100), 0, -0, Infinity, -Infinity, NaN, 1.00390625, 1.01171875]);
    const bitsOn = (device: 'cpu' | typeof gpu) => {
      const a = native.fromArray(device, [x.length], x), h = native.empty(device, [x.length], 'bfloat16'), b = native.empty(device, [x.length], 'float32');
      native.cast(a, h);
      native.cast(h, b);
      const r = { h: Array.from(native.toArray(h) as Uint16Array), b: Array.from(new Uint32Array((native.toArray(b) as Float32Array).buffer)) };
      for (const t of [a, h, b]) t.dispose();
      return r;
    };
    expect(bitsOn(gpu)).toEqual(bitsOn('cpu'));
  });

  it('a bad label or index is a RangeError naming the op, position and value (on the gpu at the next read), then cleared', () => {
    const logits = native.fromArray(gpu, [4, 10], f32(rand(40, 91)));
    const loss = native.empty(gpu, [1], 'float32');
    const bad = native.fromArray(gpu, [4], Int32Array.of(1, 2, 12, 3)), good = native.fromArray(gpu, [4], Int32Array.of(1, 2, 3, 4));
    expect(() => { native.softmaxCrossEntropy(logits, bad, null, loss, 0, false); native.toArray(loss); })
      .toThrow(/softmaxCrossEntropy: labels\[2\] = 12 is out of range \[0, 10\)/);
    native.softmaxCrossEntropy(logits, good, null, loss, 0, false);
    expect(Number.isFinite((native.toArray(loss) as Float32Array)[0])).toBe(true);
    const ds = native.fromArray(gpu, [5, 3, 4, 4], new Uint8Array(5 * 48).fill(7), 'uint8');
    const idx = native.fromArray(gpu, [3], Int32Array.of(0, 5, 1)), batch = native.empty(gpu, [3, 3, 4, 4], 'float32');
    const p = { scale: 1 / 255, mean: [], std: [], cropPad: 0, padMode: 'zero' as const, flip: false, seed: 1 };
    expect(() => { native.loadBatch(ds, idx, batch, p); native.toArray(batch); }).toThrow(/loadBatch: indices\[1\] = 5 is out of range \[0, 5\)/);
    const labels = native.fromArray(gpu, [5], Uint8Array.of(1, 2, 3, 4, 5), 'uint8'), picked = native.empty(gpu, [3], 'int32');
    expect(() => { native.gatherLabels(labels, idx, picked); native.toArray(picked); }).toThrow(/gatherLabels: indices\[1\] = 5 is out of range \[0, 5\)/);
    expect(Array.from(native.toArray(loss) as Float32Array).every(Number.isFinite)).toBe(true);  // nothing left pending
    for (const t of [logits, loss, bad, good, ds, idx, batch, labels, picked]) t.dispose();
  });

  it.skipIf(gpu === 'cpu')('copies between plain and nhwc on the gpu', () => {
    const s = [2, 5, 3, 4];
    const x = f32(rand(numel(s), 81));
    const r = runOn(gpu, { a: { shape: s, data: x } }, (t) => {
      const n = native.empty(gpu, s, 'float32', 'nhwc');
      native.copy(t.a!, n);
      native.fill(t.a!, 0);
      native.copy(n, t.a!);
      expect(Array.from(native.toArray(n) as Float32Array)).toEqual(Array.from(x));
      n.dispose();
    });
    expect(Array.from(r.a)).toEqual(Array.from(x));
  });

  it('repeated conv steps keep device memory flat', () => {
    const p = convCases[3].p;
    const x = native.fromArray(gpu, [4, 64, 16, 16], f32(rand(4 * 64 * 256, 91)));
    const w = native.fromArray(gpu, [64, 64, 3, 3], f32(rand(64 * 64 * 9, 92)));
    const y = native.empty(gpu, [4, 64, 16, 16], 'float32');
    const dw = native.empty(gpu, [64, 64, 3, 3], 'float32');
    native.conv2dForward(x, w, null, y, p, true);
    const live = native.liveBytes(gpu);
    for (let i = 0; i < 200; i++) {
      native.conv2dForward(x, w, null, y, p, true);
      native.conv2dBackwardData(y, w, x, p);
      native.conv2dBackwardFilter(x, y, dw, null, p);
    }
    native.toArray(dw);  // synchronizes: surfaces any asynchronous error
    expect(native.liveBytes(gpu)).toBe(live);
    for (const t of [x, w, y, dw]) t.dispose();
  });
});
