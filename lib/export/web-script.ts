// The script of the exported web page, written as TypeScript so that it is type-checked, and put into
// index.html as source text (web-page.ts). It must therefore stay self-contained: no imports at run
// time, no module-level names; everything arrives as arguments. The image is decoded by the browser,
// then resized by the same function as `vgg-cifar predict` uses (report/images.ts), normalized as in
// training when the model does not do it itself, and classified by ONNX Runtime Web (WebAssembly).
import type * as Ort from 'onnxruntime-web';
import type { RgbaImage } from '../report/images.js';

/** What the page script needs to know (embedded as JSON). */
export interface PageInfo {
  classes: string[];
  /** [height, width] */
  inputSize: [number, number];
  /** Per-channel mean/std the page applies (null: the model takes pixels / 255). */
  normalize: { mean: number[]; std: number[] } | null;
  model: string;
}

export interface PageHelpers {
  toPlanarRgb: (img: RgbaImage, width: number, height: number) => Uint8Array;
  softmaxRows: (logits: Float32Array, rows: number, cols: number) => Float64Array[];
}

export async function pageMain(ort: typeof Ort, info: PageInfo, helpers: PageHelpers): Promise<void> {
  const el = (id: string) => document.getElementById(id) as HTMLElement;
  const make = (tag: string, cls: string, text?: string) => {
    const e = document.createElement(tag);
    e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const status = el('status');
  const results = el('results');
  const input = el('files') as HTMLInputElement;
  const drop = el('drop');
  const say = (text: string, state: string) => {
    status.textContent = text;
    document.body.dataset.state = state;
  };
  const [h, w] = info.inputSize;

  let session: Ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create('model.onnx', { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  } catch (e) {
    say(`The model could not be loaded (${String(e)}). Serve this folder over HTTP (for example \`vgg-cifar serve FOLDER\`); ` +
      'browsers do not load WebAssembly from file:// pages.', 'error');
    return;
  }
  say(`Ready: ${info.model} runs in this page (ONNX Runtime Web, WebAssembly). Choose or drop images.`, 'ready');

  const tensorOf = (planar: Uint8Array): Float32Array => {
    const x = new Float32Array(planar.length);
    const plane = w * h;
    for (let c = 0; c < 3; c++) {
      const m = info.normalize ? info.normalize.mean[c] : 0;
      const s = info.normalize ? info.normalize.std[c] : 1;
      for (let i = 0; i < plane; i++) x[c * plane + i] = (planar[c * plane + i] / 255 - m) / s;
    }
    return x;
  };

  /** The resized image as the network sees it, drawn large with visible pixels. */
  const preview = (planar: Uint8Array): HTMLCanvasElement => {
    const c = document.createElement('canvas');
    c.width = w;
    c.height = h;
    c.className = 'seen';
    const img = new ImageData(w, h);
    for (let i = 0; i < w * h; i++) {
      for (let k = 0; k < 3; k++) img.data[4 * i + k] = planar[k * w * h + i];
      img.data[4 * i + 3] = 255;
    }
    c.getContext('2d')!.putImageData(img, 0, 0);
    return c;
  };

  const classify = async (file: File): Promise<void> => {
    const card = make('article', 'card');
    card.dataset.file = file.name;
    card.dataset.state = 'working';
    card.append(make('h2', 'name', file.name));
    results.append(card);
    try {
      let bitmap: ImageBitmap;
      try {
        bitmap = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
      } catch {
        throw new Error('this file is not an image the browser can read');
      }
      const canvas = document.createElement('canvas');
      canvas.width = bitmap.width;
      canvas.height = bitmap.height;
      const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
      ctx.drawImage(bitmap, 0, 0);
      const rgba = ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
      const planar = helpers.toPlanarRgb({ width: bitmap.width, height: bitmap.height, data: new Uint8Array(rgba.buffer) }, w, h);
      const out = await session.run({ input: new ort.Tensor('float32', tensorOf(planar), [1, 3, h, w]) });
      const logits = out.logits.data as Float32Array;
      const [p] = helpers.softmaxRows(logits, 1, logits.length);
      const order = Array.from(p.keys()).sort((a, b) => p[b] - p[a] || a - b).slice(0, Math.min(5, p.length));

      const pics = make('div', 'pics');
      const original = document.createElement('img');
      original.src = URL.createObjectURL(file);
      original.alt = file.name;
      if (bitmap.width < 72 && bitmap.height < 72) original.style.imageRendering = 'pixelated';
      pics.append(original, preview(planar));
      pics.append(make('p', 'size', bitmap.width === w && bitmap.height === h ? `${w}×${h}` : `${bitmap.width}×${bitmap.height} → ${w}×${h}`));
      const bars = make('ol', 'bars');
      for (const k of order) {
        const li = make('li', 'bar');
        li.dataset.class = info.classes[k];
        li.dataset.index = String(k);
        li.dataset.probability = String(p[k]);
        const fill = make('span', 'fill');
        fill.style.width = `${(100 * p[k]).toFixed(2)}%`;
        const track = make('span', 'track');
        track.append(fill);
        li.append(make('span', 'label', info.classes[k]), track, make('span', 'pct', `${(100 * p[k]).toFixed(1)}%`));
        bars.append(li);
      }
      card.append(pics, bars);
      card.dataset.state = 'done';
    } catch (e) {
      card.append(make('p', 'error', e instanceof Error ? e.message : String(e)));
      card.dataset.state = 'error';
    }
  };

  // One image at a time, in the order given: the WebAssembly session runs one request at a time.
  let queue = Promise.resolve();
  const take = (files: FileList | null) => {
    for (const f of Array.from(files ?? [])) queue = queue.then(() => classify(f));
  };
  input.addEventListener('change', () => {
    take(input.files);
    input.value = '';
  });
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    take(e.dataTransfer?.files ?? null);
  });
}
