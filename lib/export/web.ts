// The web page folder: index.html (web-page.ts), model.onnx, and ONNX Runtime Web's WebAssembly build
// as the package ships it (the bundle that carries its own loader, and the .wasm it loads from beside
// itself). Works from any static file server that serves .mjs as JavaScript and .wasm.
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { ExportInfo } from './source.js';
import { pageHtml } from './web-page.js';
import type { OutputFile } from './output.js';

export const ORT_FILES = ['ort.wasm.bundle.min.mjs', 'ort-wasm-simd-threaded.wasm'] as const;

export function ortDist(): string {
  let wasm: string;
  try {
    wasm = createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm');
  } catch {
    throw new Error('export --format web needs the onnxruntime-web package (a dependency of vgg-cifar): run `npm install` in the package');
  }
  const dist = dirname(wasm);
  for (const f of ORT_FILES) if (!existsSync(join(dist, f))) throw new Error(`export --format web: onnxruntime-web has no ${f} in ${dist}`);
  return dist;
}

export function webFiles(onnx: Uint8Array, info: ExportInfo): OutputFile[] {
  const dist = ortDist();
  return [
    { name: 'index.html', bytes: pageHtml(info, ORT_FILES[0]) },
    { name: 'model.onnx', bytes: onnx },
    ...ORT_FILES.map((f) => ({ name: f, copyOf: join(dist, f), size: statSync(join(dist, f)).size })),
  ];
}
