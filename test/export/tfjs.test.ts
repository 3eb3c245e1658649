// TensorFlow.js export checked by TensorFlow.js: tf.loadLayersModel (WebAssembly backend) loads the
// exported folder over HTTP from `serve` and gives vgg-cifar's logits within 1e-4 on 64 real-looking
// images, for the report's VGG16 (normalization in the model), VGG16-BN and VGG11-BN at 64x64 (BatchNorm
// folded; 2x2 features before Flatten, so the flatten-order conversion is exercised), and a small VGG13
// with a 96x64 input (3x2 features).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as tfc from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-wasm';

// The packages the @tensorflow/tfjs bundle would re-export (the bundle itself is not installed: its browser
// polyfills only made npm warn; see bench/tfjs.ts).
const tf = { ...tfc, loadLayersModel: tfl.loadLayersModel };
import { exportTfjs } from '../../lib/export/index.js';
import { serve, type Serving } from '../../lib/export/serve.js';
import type { VggOptions } from '../../lib/models/vgg.js';
import { tempDir } from '../data/fixtures.js';
import { CLASSES, fixtureModel, maxAbsDiff, ourLogits, realLookingImages, saveFixture, toInput } from './fixtures.js';

const dir = tempDir('tfjs');
const N = 64;
let server: Serving;
beforeAll(async () => {
  await tf.setBackend('wasm');
  server = await serve({ folder: dir, port: 0 });
});
afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Case { name: string; opts: VggOptions; seed: number; foldBn?: boolean; includeNormalization?: boolean; layers: string[] }
const conv = (bn: boolean) => (bn ? ['Conv2D', 'BatchNormalization', 'Activation'] : ['Conv2D', 'Activation']);
const features = (cfg: Array<number | 'M'>, bn: boolean) => cfg.flatMap((v) => (v === 'M' ? ['MaxPooling2D'] : conv(bn)));
const CASES: Case[] = [
  { name: 'VGG16 (report), --include-normalization', opts: { depth: 16 }, seed: 1, includeNormalization: true,
    layers: ['InputLayer', 'BatchNormalization', ...features([64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'], false),
      'Flatten', 'Dense', 'Activation', 'Dense', 'Activation', 'Dense'] },
  { name: 'VGG16-BN', opts: { depth: 16, batchNorm: true }, seed: 2,
    layers: ['InputLayer', ...features([64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'], true),
      'Flatten', 'Dense', 'Activation', 'Dense', 'Activation', 'Dense'] },
  { name: 'VGG13 (widths / 8), linear classifier, 96x64 input (not square)', opts: { depth: 13, classifier: 'linear', inputSize: [96, 64], widthDivisor: 8 }, seed: 4,
    layers: ['InputLayer', ...features([64, 64, 'M', 128, 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'], false), 'Flatten', 'Dense'] },
  { name: 'VGG11-BN 64x64, --fold-bn', opts: { depth: 11, batchNorm: true, inputSize: [64, 64], classifier: 'standard' }, seed: 3, foldBn: true,
    layers: ['InputLayer', ...features([64, 'M', 128, 'M', 256, 256, 'M', 512, 512, 'M', 512, 512, 'M'], false),
      'Flatten', 'Dense', 'Activation', 'Dropout', 'Dense', 'Activation', 'Dropout', 'Dense'] },
];

for (const c of CASES) {
  describe(c.name, () => {
    it('tf.loadLayersModel over HTTP gives our logits within 1e-4 on 64 images; model.json as documented', async () => {
      const [h, w] = c.opts.inputSize ?? [32, 32];
      const model = fixtureModel(c.opts, c.seed);
      const pixels = realLookingImages(N, h, w, 100 + c.seed);
      let ours: Float32Array;
      try {
        const ckpt = saveFixture(dir, `${c.seed}.safetensors`, model, { normalize: true, accuracy: 0.5 });
        ours = ourLogits(model, toInput(pixels, h, w, true), N);
        const r = exportTfjs({ checkpoint: ckpt, out: join(dir, `m${c.seed}`), foldBn: c.foldBn, includeNormalization: c.includeNormalization });
        expect(r.notes).toEqual([]);
        const json = JSON.parse(readFileSync(join(r.out, 'model.json'), 'utf8'));
        expect(json.format).toBe('layers-model');
        expect(json.generatedBy).toMatch(/^vgg-cifar \d/);
        expect(json.modelTopology.config.layers.map((l: { class_name: string }) => l.class_name)).toEqual(c.layers);
        const manifest = json.weightsManifest[0];
        const params = model.parameters().reduce((a, p) => a + p.value.size, 0);
        const sizes = manifest.paths.map((p: string) => statSync(join(r.out, p)).size);
        expect(sizes.every((s: number) => s <= 4 * 1024 * 1024)).toBe(true);
        const bnStats = c.opts.batchNorm && !c.foldBn ? model.buffers().reduce((a, b) => a + b.value.size, 0) : 0;
        const foldedAway = c.opts.batchNorm && c.foldBn ? model.parameters().filter((p) => /net\.\d+\.(weight|bias)$/.test(p.name) && p.value.shape.length === 1 &&
          model.buffers().some((b) => b.name === p.name.replace(/(weight|bias)$/, 'running_mean'))).reduce((a, p) => a + p.value.size, 0) : 0;
        expect(sizes.reduce((a: number, s: number) => a + s, 0)).toBe(4 * (params + bnStats - foldedAway + (c.includeNormalization ? 6 : 0)));
        expect(json.userDefinedMetadata.classes).toEqual(CLASSES);
      } finally {
        model.dispose();
      }

      const loaded = await tf.loadLayersModel(`${server.url}m${c.seed}/model.json`);
      expect(loaded.inputs[0].shape).toEqual([null, h, w, 3]);
      expect((loaded.getUserDefinedMetadata() as { classes: string[] }).classes).toEqual(CLASSES);
      const x = tf.tidy(() => tf.transpose(tf.tensor4d(toInput(pixels, h, w, !c.includeNormalization), [N, 3, h, w]), [0, 2, 3, 1]));
      const y = loaded.predict(x) as tfc.Tensor;
      try {
        expect(y.shape).toEqual([N, 10]);
        expect(maxAbsDiff(await y.data() as Float32Array, ours!)).toBeLessThanOrEqual(1e-4);
      } finally {
        tf.dispose([x, y]);
        loaded.dispose();
      }
    });
  });
}
