// predict(): classes of image files (PNG or JPEG, any size up to a pixel limit) by a checkpoint, top-k
// with probabilities.
import { native } from '../backend.js';
import type { BackendChoice } from '../backend.js';
import { readImageFile, type ImageLoadOptions } from './images.js';
import { loadModel, softmaxRows, withInputs, type LoadModelOptions } from './model.js';

export interface Prediction {
  file: string;
  /** The image's own size before resizing to 32x32. */
  width: number;
  height: number;
  /** Best first. */
  top: Array<{ class: string; index: number; probability: number }>;
}

export interface PredictOptions extends LoadModelOptions, ImageLoadOptions {
  checkpoint: string;
  images: string[];
  /** How many classes to list (default 5). */
  top?: number;
  backend?: BackendChoice;
}

export function predict(o: PredictOptions): Prediction[] {
  if (!Array.isArray(o.images) || o.images.length === 0) throw new RangeError('predict: give at least one image file');
  const k = o.top ?? 5;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`predict: top must be a positive integer, got ${k}`);
  // Read every file first (each is 32x32 from then on): a bad file is reported before any model work.
  const decoded = o.images.map((f) => ({ file: f, img: readImageFile(f, { maxPixels: o.maxPixels }) }));
  const pixels = new Uint8Array(decoded.length * 3072);
  decoded.forEach((d, i) => pixels.set(d.img.pixels, i * 3072));
  const m = loadModel(o.checkpoint, o);
  try {
    const probs = withInputs(m, pixels, decoded.length, 64, (x, _first, size) => {
      const logits = m.model.forward(x);
      return softmaxRows(native.toArray(logits) as Float32Array, size, logits.shape[1]);
    }).flat();
    return decoded.map((d, i) => {
      const p = probs[i];
      const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b).slice(0, Math.min(k, p.length));
      return { file: d.file, width: d.img.width, height: d.img.height,
        top: order.map((c) => ({ class: m.classes[c], index: c, probability: p[c] })) };
    });
  } finally {
    m.dispose();
  }
}
