// ONNX export checked by the runtimes that load it: ONNX Runtime (its WebAssembly build, in Node) gives
// vgg-cifar's logits within 1e-4 on 64 real-looking images for the report's VGG16, VGG16-BN and VGG11
// at 64x64, with and without --fold-bn and --include-normalization; ONNX's own checker accepts every
// file (Debian's python3-onnx, where installed); the graph and metadata say what they should.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { exportOnnx } from '../../lib/export/index.js';
import { onnxSchema } from '../../lib/export/onnx-proto.js';
import type { Vgg, VggOptions } from '../../lib/models/vgg.js';
import { tempDir } from '../data/fixtures.js';
import { CLASSES, fixtureModel, maxAbsDiff, ourLogits, realLookingImages, saveFixture, toInput } from './fixtures.js';

const dir = tempDir('onnx');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const N = 64;
ort.env.wasm.numThreads = 2;

/** python3 with Debian's onnx module (the pyenv python3 on PATH may lack it), or why there is none. */
function pythonOnnx(): { python: string } | { reason: string } {
  for (const python of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(python, ['-c', 'import onnx'], { stdio: 'ignore' });
      return { python };
    } catch {
      // try the next one
    }
  }
  return { reason: 'no python3 with the onnx module (apt-get install python3-onnx)' };
}

interface Case { name: string; opts: VggOptions; seed: number; variants: Array<{ foldBn?: boolean; includeNormalization?: boolean }> }
const CASES: Case[] = [
  { name: 'VGG16 (report)', opts: { depth: 16 }, seed: 1, variants: [{}, { includeNormalization: true }] },
  { name: 'VGG16-BN', opts: { depth: 16, batchNorm: true }, seed: 2,
    variants: [{}, { foldBn: true }, { includeNormalization: true }, { foldBn: true, includeNormalization: true }] },
  { name: 'VGG11-BN 64x64', opts: { depth: 11, batchNorm: true, inputSize: [64, 64], classifier: 'standard' }, seed: 3,
    variants: [{}, { foldBn: true, includeNormalization: true }] },
];
const exported: string[] = [];

function decode(file: string) {
  const m = onnxSchema().ModelProto.decode(readFileSync(file));
  return onnxSchema().ModelProto.toObject(m, { longs: Number, defaults: false }) as {
    ir_version: number; opset_import: Array<{ domain?: string; version: number }>; producer_name: string;
    metadata_props: Array<{ key: string; value: string }>;
    graph: { node: Array<{ op_type: string; name: string }>; initializer: Array<{ name: string }>;
      input: Array<{ name: string; type: { tensor_type: { shape: { dim: Array<{ dim_param?: string; dim_value?: number }> } } } }>;
      output: Array<{ name: string; type: { tensor_type: { shape: { dim: Array<{ dim_param?: string; dim_value?: number }> } } } }> };
  };
}
/** Standard deviation of class k's logit over the images. */
function classSpread(logits: Float32Array, k: number): number {
  const v = Array.from({ length: logits.length / 10 }, (_, i) => logits[i * 10 + k]);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
}
const dims = (d: Array<{ dim_param?: string; dim_value?: number }>) => d.map((x) => x.dim_param ?? x.dim_value);

for (const c of CASES) {
  describe(c.name, () => {
    let model: Vgg;
    let ckpt: string;
    let pixels: Uint8Array;
    let ours: Float32Array;
    const [h, w] = c.opts.inputSize ?? [32, 32];
    beforeAll(() => {
      model = fixtureModel(c.opts, c.seed);
      ckpt = saveFixture(dir, `${c.seed}.safetensors`, model, { normalize: true, accuracy: 0.75, epoch: 12 });
      pixels = realLookingImages(N, h, w, 100 + c.seed);
      ours = ourLogits(model, toInput(pixels, h, w, true), N);
    });
    afterAll(() => model.dispose());

    it('our logits depend on the image by far more than 1e-4 (so the parity check means something)', () => {
      expect(Math.min(...Array.from({ length: 10 }, (_, k) => classSpread(ours, k)))).toBeGreaterThan(0.05);
      expect(Math.max(...ours.map(Math.abs))).toBeGreaterThan(1);
      expect(Math.max(...ours.map(Math.abs))).toBeLessThan(100);
    });

    for (const v of c.variants) {
      const tag = [v.foldBn && '--fold-bn', v.includeNormalization && '--include-normalization'].filter(Boolean).join(' ') || 'plain';
      it(`${tag}: ONNX Runtime gives our logits within 1e-4 on ${N} images; graph and metadata as documented`, async () => {
        const out = join(dir, `${c.seed}-${tag.replace(/\W+/g, '')}.onnx`);
        const r = exportOnnx({ checkpoint: ckpt, out, ...v });
        exported.push(out);
        expect(r.format).toBe('onnx');
        expect(r.bytes).toBe(readFileSync(out).length);
        expect(r.notes).toEqual([]);

        const m = decode(out);
        expect(m.ir_version).toBe(8);
        expect(m.opset_import).toEqual([{ domain: '', version: 17 }]);
        expect(m.producer_name).toBe('vgg-cifar');
        expect(m.graph.input.map((i) => [i.name, dims(i.type.tensor_type.shape.dim)])).toEqual([['input', ['batch', 3, h, w]]]);
        expect(m.graph.output.map((o) => [o.name, dims(o.type.tensor_type.shape.dim)])).toEqual([['logits', ['batch', 10]]]);
        const ops = m.graph.node.map((n) => n.op_type);
        const convs = model.net.layers.filter((l) => l.typeName === 'Conv2d').length;
        expect(ops.filter((o) => o === 'Conv')).toHaveLength(convs);
        expect(ops.filter((o) => o === 'BatchNormalization')).toHaveLength(c.opts.batchNorm && !v.foldBn ? convs : 0);
        expect(ops.filter((o) => o === 'MaxPool')).toHaveLength(5);
        expect(ops.filter((o) => o === 'Gemm')).toHaveLength(c.opts.classifier === 'linear' ? 1 : 3);
        expect(ops.slice(0, 2)).toEqual(v.includeNormalization ? ['Sub', 'Div'] : ['Conv', c.opts.batchNorm && !v.foldBn ? 'BatchNormalization' : 'Relu']);
        expect(ops.at(-1)).toBe('Gemm');
        const meta = Object.fromEntries(m.metadata_props.map((p) => [p.key, p.value]));
        expect(JSON.parse(meta.classes)).toEqual(CLASSES);
        expect(JSON.parse(meta.normalization)).toEqual({ mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616], in_model: !!v.includeNormalization });
        expect(meta.bn_folded).toBe(String(!!(v.foldBn && c.opts.batchNorm)));
        expect(JSON.parse(meta.architecture)).toEqual(model.config);
        expect(JSON.parse(meta.test_accuracy)).toMatchObject({ accuracy: 0.75, epoch: 12 });
        expect(meta['vgg_cifar.version']).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
        expect(meta.input).toMatch(v.includeNormalization ? /RGB pixels \/ 255 \(in \[0, 1\]\)/ : /\(RGB pixels \/ 255 - mean\) \/ std/);

        const session = await ort.InferenceSession.create(out);
        try {
          expect([session.inputNames, session.outputNames]).toEqual([['input'], ['logits']]);
          const x = toInput(pixels, h, w, !v.includeNormalization);
          const y = await session.run({ input: new ort.Tensor('float32', x, [N, 3, h, w]) });
          expect(y.logits.dims).toEqual([N, 10]);
          const diff = maxAbsDiff(y.logits.data as Float32Array, ours);
          expect(diff).toBeLessThanOrEqual(1e-4);
        } finally {
          await session.release();
        }
      });
    }
  });
}

describe('every depth, classifier and input shape (small widths, 8 images)', () => {
  const variety: Array<[string, VggOptions]> = [
    ['VGG13, linear classifier, 96x64 input', { depth: 13, classifier: 'linear', inputSize: [96, 64], widthDivisor: 8 }],
    ['VGG19-BN, standard classifier, the report\'s ReLU on the logits', { depth: 19, batchNorm: true, classifier: 'standard', reluOnLogits: true, widthDivisor: 8 }],
  ];
  for (const [name, opts] of variety) {
    it(`${name}: ONNX Runtime gives our logits within 1e-4`, async () => {
      const model = fixtureModel(opts, 9);
      const [h, w] = opts.inputSize ?? [32, 32];
      try {
        const ckpt = saveFixture(dir, 'variety.safetensors', model, { normalize: true });
        const out = join(dir, `variety-${opts.depth}.onnx`);
        exportOnnx({ checkpoint: ckpt, out, foldBn: true, includeNormalization: true });
        exported.push(out);
        const ops = decode(out).graph.node.map((n) => n.op_type);
        expect(ops.slice(-2)).toEqual(opts.reluOnLogits ? ['Gemm', 'Relu'] : ['Flatten', 'Gemm']);
        const pixels = realLookingImages(8, h, w, 5);
        const session = await ort.InferenceSession.create(out);
        const y = await session.run({ input: new ort.Tensor('float32', toInput(pixels, h, w, false), [8, 3, h, w]) });
        await session.release();
        expect(maxAbsDiff(y.logits.data as Float32Array, ourLogits(model, toInput(pixels, h, w, true), 8))).toBeLessThanOrEqual(1e-4);
      } finally {
        model.dispose();
      }
    });
  }
});

describe('ONNX checker', () => {
  const py = pythonOnnx();
  if ('reason' in py) console.warn(`skipping onnx.checker.check_model: ${py.reason}`);
  it.skipIf('reason' in py)('onnx.checker.check_model(full_check=True) accepts every exported file', () => {
    expect(exported.length).toBe(10);
    // check_model on the path: the C++ checker reads the file itself (loading 60 MB models into
    // Python protobuf objects first costs seconds per file). full_check includes strict shape inference.
    const script = [
      'import sys, onnx',
      'for f in sys.argv[1:]:',
      '    onnx.checker.check_model(f, full_check=True)',
      '    print(f)',
    ].join('\n');
    const r = execFileSync((py as { python: string }).python, ['-c', script, ...exported], { encoding: 'utf8' });
    expect(r.trim().split('\n')).toEqual(exported);
  });
});
