// VGG_CIFAR_CUDA_NHWC=auto, the default (native/cuda/nhwc_tune.cc): each nhwc BatchNorm shape is tuned at its first
// training forward and each pooling shape with whole, separate windows at its first forward, once; the report
// names every candidate's time or why it was left out, and the pick; results match the CPU whatever was picked;
// a new shape inside a graph capture is refused, as an algorithm search is. The choice is read once per process;
// vitest runs every test file in a process of its own, and the variable is cleared before the addon loads.
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  delete process.env.VGG_CIFAR_CUDA_NHWC;
  delete process.env.VGG_CIFAR_CUDA_TUNE_PREFER;
  delete process.env.VGG_CIFAR_CUDA_TUNE_CORRUPT;
});

import { native } from '../../lib/backend.js';
import { bnSpecs, bnStep, bnStepMatchesCpu, dtypes, nhwcPathReported, poolStepMatchesCpu } from './nhwc-batchnorm.js';
import { POOL_2X2, pickOf, tunedReports } from './nhwc-auto.js';
import { captureAfterWarmup, describeGpu, emulated, gpu, make } from './parity.js';

describe('VGG_CIFAR_CUDA_NHWC unset', () => {
  it.skipIf(nhwcPathReported() === undefined)('is auto, reported with the tuned shapes', () => {
    expect(nhwcPathReported()).toMatch(/^auto: per shape, the fastest on this GPU of our kernels, cuDNN's legacy calls/);
  });
});

describeGpu('VGG_CIFAR_CUDA_NHWC=auto', () => {
  const timed = /^\d+\.\d{3} ms$/;
  /** The report's candidates: name -> "0.123 ms" or "left out (why)". */
  const candidates = (report: string) => new Map(report.split(' -> ')[0].split(', ').map((c) => {
    const at = c.indexOf(' ');
    return [c.slice(0, at), c.slice(at + 1)] as const;
  }));

  for (const dtype of dtypes) {
    it.skipIf(gpu !== 'cuda')(`tunes a BatchNorm + ReLU shape once, at its first training forward, and matches the cpu with its pick (${dtype} nhwc)`, () => {
      const key = `${dtype}[6,64,8,8]nhwc bn+relu`;
      expect(tunedReports().has(key)).toBe(false);
      bnStepMatchesCpu([6, 64, 8, 8], dtype, 11);
      const report = tunedReports().get(key)!;
      expect(report, key).toBeDefined();
      const c = candidates(report);
      expect([...c.keys()]).toEqual(['ours', 'cudnn', 'cudnn-ex']);
      expect(c.get('ours')).toMatch(timed);
      for (const [name, v] of c) expect(v, name).toMatch(/^(\d+\.\d{3} ms|left out \(.+\))$/);
      // The emulator's stand-ins compute each candidate's documented result: none may be left out as disagreeing.
      if (emulated) for (const [name, v] of c) expect(v, name).toMatch(timed);
      expect(c.get(pickOf(report))).toMatch(timed);  // the pick ran and agreed
      // Again, and with another seed: looked up, not tuned again; still right.
      bnStepMatchesCpu([6, 64, 8, 8], dtype, 12);
      expect(tunedReports().get(key)).toBe(report);
    });

    it.skipIf(gpu !== 'cuda')(`the forward without the ReLU is a shape of its own; inference forwards tune nothing (${dtype} nhwc)`, () => {
      const s = [4, 32, 4, 4];
      const t = Object.fromEntries(Object.entries(bnSpecs(s, dtype, 21)).map(([k, v]) => [k, make(gpu, v)]));
      native.batchNorm2dForward(t.x, t.gamma, t.beta, t.rm, t.rv, t.y, t.mean, t.invStd, { training: false, momentum: 0.1, eps: 1e-5, relu: true });
      expect([...tunedReports().keys()].filter((k) => k.startsWith(`${dtype}[4,32,4,4]`))).toEqual([]);
      native.batchNorm2dForward(t.x, t.gamma, t.beta, t.rm, t.rv, t.y, t.mean, t.invStd, { training: true, momentum: 0.1, eps: 1e-5 });
      native.batchNorm2dBackward(t.x, t.dy, t.gamma, t.mean, t.invStd, t.dx, t.dgamma, t.dbeta, 1e-5);
      expect([...tunedReports().keys()].filter((k) => k.startsWith(`${dtype}[4,32,4,4]`))).toEqual([`${dtype}[4,32,4,4]nhwc bn`]);
      for (const v of Object.values(t)) v.dispose();
    });

    it.skipIf(gpu !== 'cuda')(`tunes 2x2/2 max pooling at its first forward; overlapping or padded windows run our kernels untuned (${dtype} nhwc)`, () => {
      poolStepMatchesCpu([4, 64, 8, 8], POOL_2X2, dtype, 31);
      const key = `${dtype}[4,64,8,8]nhwc maxpool 2x2/2x2 pad 0x0`;
      const report = tunedReports().get(key)!;
      expect(report, key).toBeDefined();
      expect([...candidates(report).keys()]).toEqual(['ours', 'cudnn']);
      expect(candidates(report).get(pickOf(report))).toMatch(timed);
      // The last row and column are in no window.
      poolStepMatchesCpu([3, 24, 7, 7], POOL_2X2, dtype, 32);
      expect(tunedReports().has(`${dtype}[3,24,7,7]nhwc maxpool 2x2/2x2 pad 0x0`)).toBe(true);
      const overlapping = { kernelH: 3, kernelW: 3, strideH: 2, strideW: 2, padH: 1, padW: 1 };
      poolStepMatchesCpu([2, 16, 9, 7], overlapping, dtype, 33);
      expect([...tunedReports().keys()].some((k) => k.startsWith(`${dtype}[2,16,9,7]`))).toBe(false);
    });
  }

  it.skipIf(gpu !== 'cuda')('a shape first met inside a graph capture is refused, naming the tuning; once tuned eagerly, the step captures and replays', () => {
    const s = [4, 16, 4, 4];
    const t = Object.fromEntries(Object.entries(bnSpecs(s, 'bfloat16', 41)).map(([k, v]) => [k, make('cuda', v)]));
    native.graphCaptureBegin('cuda');
    try {
      expect(() => bnStep(t)).toThrow(/batchNorm2dForward.*timing the implementations of a new nhwc shape \(VGG_CIFAR_CUDA_NHWC=auto\)/);
    } finally {
      native.graphCaptureAbort('cuda');
    }
    const g = captureAfterWarmup(() => bnStep(t));  // the eager warm-up tunes the shape
    native.graphLaunch(g);
    expect(tunedReports().has('bfloat16[4,16,4,4]nhwc bn+relu')).toBe(true);
    g.dispose();
    for (const v of Object.values(t)) v.dispose();
  });
});
