// TensorFlow.js side of the benchmarks: the same VGG16 (the report's classifier, no ReLU on the logits,
// optionally BatchNorm) built with tfjs layers, timed per training step (Adam 1e-3, softmax
// cross-entropy) or per inference batch, on the backends that install from the npm registry alone.
// It loads the three packages it uses (core, layers, the cpu and wasm backends) rather than the
// @tensorflow/tfjs bundle, whose browser polyfills (core-js) have an install script.
import { performance } from 'node:perf_hooks';

export interface TfjsResult {
  framework: string;
  backend: string;
  mode: 'train' | 'infer';
  batch: number;
  bn: boolean;
  times: number[];
  error?: string;
  notes: string[];
}

const CFG16 = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'] as const;

type Core = typeof import('@tensorflow/tfjs-core');
type Tf = Core & typeof import('@tensorflow/tfjs-layers');
let tfPromise: Promise<Tf> | null = null;

async function loadTf(): Promise<Tf> {
  tfPromise ??= (async () => {
    const [core, layers] = await Promise.all([import('@tensorflow/tfjs-core'), import('@tensorflow/tfjs-layers')]);
    await import('@tensorflow/tfjs-backend-cpu');
    await import('@tensorflow/tfjs-backend-wasm');
    return { ...core, ...layers };
  })();
  return tfPromise;
}

function buildModel(tf: Tf, bn: boolean) {
  const layers: import('@tensorflow/tfjs-layers').layers.Layer[] = [];
  let first = true;
  for (const v of CFG16) {
    if (v === 'M') layers.push(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }));
    else {
      layers.push(tf.layers.conv2d({ filters: v, kernelSize: 3, padding: 'same', kernelInitializer: 'glorotUniform',
        ...(first ? { inputShape: [32, 32, 3] } : {}) }));
      if (bn) layers.push(tf.layers.batchNormalization());
      layers.push(tf.layers.reLU());
      first = false;
    }
  }
  layers.push(tf.layers.flatten(), tf.layers.dense({ units: 100, activation: 'relu' }), tf.layers.dense({ units: 100, activation: 'relu' }),
    tf.layers.dense({ units: 10 }));
  const model = tf.sequential({ layers });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: tf.losses.softmaxCrossEntropy });
  return model;
}

/** Times `rounds` steps after `warmup`; a backend that cannot run the mode reports `error`. */
export async function benchTfjs(backend: 'cpu' | 'wasm', mode: 'train' | 'infer', batch: number, bn: boolean,
  warmup: number, rounds: number): Promise<TfjsResult> {
  const tf = await loadTf();
  const notes: string[] = [];
  const res: TfjsResult = { framework: `tfjs ${tf.version_core}`, backend, mode, batch, bn, times: [], notes };
  try {
    await tf.setBackend(backend);
    await tf.ready();
    if (backend === 'wasm') {
      const env = tf.env();
      const simd = await env.getAsync('WASM_HAS_SIMD_SUPPORT');
      const threads = await env.getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
      notes.push(`wasm SIMD ${simd ? 'on' : 'off'}, threads ${threads ? 'on' : 'off (Node has no cross-origin isolation: single-threaded)'}`);
    }
  } catch (e) {
    res.error = `backend ${backend} failed to start: ${(e as Error).message}`;
    return res;
  }
  const model = buildModel(tf, bn);
  const x = tf.randomUniform([batch, 32, 32, 3]);
  const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32') as import('@tensorflow/tfjs-core').Tensor1D, 10);
  const step = async () => {
    if (mode === 'train') await model.trainOnBatch(x, y);
    else {
      const out = model.predict(x) as import('@tensorflow/tfjs-core').Tensor;
      await out.data();
      out.dispose();
    }
  };
  try {
    for (let i = 0; i < warmup; i++) await step();
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      await step();
      res.times.push((performance.now() - t0) / 1000);
    }
  } catch (e) {
    res.error = `${mode} on ${backend} failed: ${(e as Error).message.split('\n')[0]}`;
  } finally {
    x.dispose();
    y.dispose();
    model.dispose();
  }
  return res;
}
