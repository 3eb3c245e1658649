// index.html of the exported web page: what the model is (name, input, test accuracy when the
// checkpoint records it) written in at export time, the page script (web-script.ts) and the two
// helpers it shares with `vgg-cifar predict` inlined as source text, ONNX Runtime Web loaded from
// the same folder. No network access: everything the page needs is in its folder.
import { toPlanarRgb } from '../report/images.js';
import { BoxResize } from '../report/box-resize.js';
import { softmaxRows } from '../report/model.js';
import { pageMain, type PageInfo } from './web-script.js';
import type { ExportInfo } from './source.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** JSON that cannot end the <script> element it sits in. */
const scriptJson = (v: unknown) => JSON.stringify(v).replace(/</g, '\\u003c');

export function accuracyLine(info: ExportInfo): string {
  const e = info.evaluation;
  if (!e) return 'Test accuracy: not recorded in the checkpoint.';
  const n = Number.isFinite(e.count) && e.count > 0 ? ` on ${e.count.toLocaleString('en-US')} ${e.split} images` : '';
  const epoch = Number.isFinite(e.epoch) ? `, after epoch ${e.epoch}` : '';
  return `Test accuracy ${(100 * e.accuracy).toFixed(2)}%${n}${epoch}.`;
}

export function pageHtml(info: ExportInfo, ortScript: string): string {
  const page: PageInfo = {
    classes: info.classes, inputSize: info.inputSize, model: info.name,
    normalize: info.normalization && !info.normalizationInModel ? info.normalization : null,
  };
  const script = `import * as ort from './${ortScript}';
const info = ${scriptJson(page)};
// predict's resize, as its source: toPlanarRgb feeds the rows to the BoxResize class.
const BoxResize = ${BoxResize.toString()};
const toPlanarRgb = ${toPlanarRgb.toString()};
const softmaxRows = ${softmaxRows.toString()};
(${pageMain.toString()})(ort, info, { toPlanarRgb, softmaxRows });`;
  if (/<\/script/i.test(script)) throw new Error('export: the page script contains </script>');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="${escapeHtml(info.generator)}"><!-- marks the folder as an export: output.ts -->
<title>${escapeHtml(info.name)}: image classifier</title>
<link rel="icon" href="data:,">
<style>${CSS}</style>
</head>
<body data-state="loading">
<header>
<h1>${escapeHtml(info.name)} <span>classifies images in your browser</span></h1>
<p class="about">${escapeHtml(info.description)}; ${info.classes.length} classes: ${escapeHtml(info.classes.join(', '))}.</p>
<p class="accuracy">${escapeHtml(accuracyLine(info))}</p>
</header>
<main>
<label id="drop" class="drop"><input type="file" id="files" accept="image/*" multiple>
<strong>Choose images</strong> or drop them here (PNG, JPEG, any size: each is resized to ${info.inputSize[1]}×${info.inputSize[0]} as in training).</label>
<p id="status" role="status">Loading the model…</p>
<section id="results" aria-live="polite"></section>
</main>
<footer>Images stay in this page: the network runs here with ONNX Runtime Web (WebAssembly). Exported by
${escapeHtml(info.generator)} from ${escapeHtml(info.source)}${info.foldedBn ? ' (BatchNorm folded into the convolutions)' : ''}.</footer>
<script type="module">
${script}
</script>
</body>
</html>
`;
}

const CSS = `
:root { color-scheme: light; --ink: #1d2430; --muted: #5b6577; --line: #dfe3ea; --accent: #2f6fdb; --bg: #f6f7f9; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
header, main, footer { max-width: 960px; margin: 0 auto; padding: 0 20px; }
header { padding-top: 24px; }
h1 { font-size: 26px; margin: 0 0 6px; }
h1 span { font-weight: 400; color: var(--muted); font-size: 18px; }
.about, .accuracy { margin: 2px 0; color: var(--muted); }
.accuracy { color: var(--ink); font-weight: 600; }
.drop { display: block; margin: 18px 0 8px; padding: 26px; border: 2px dashed #b8c2d3; border-radius: 12px; background: #fff;
  text-align: center; cursor: pointer; color: var(--muted); }
.drop strong { color: var(--accent); }
.drop.over { border-color: var(--accent); background: #eef4ff; }
.drop input { display: none; }
#status { margin: 6px 0 14px; color: var(--muted); }
body[data-state="error"] #status { color: #b3261e; font-weight: 600; }
#results { display: grid; grid-template-columns: repeat(auto-fill, minmax(290px, 1fr)); gap: 14px; padding-bottom: 20px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 12px; padding: 12px 14px; }
.card h2 { font-size: 14px; margin: 0 0 8px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.pics { display: flex; gap: 10px; align-items: center; margin-bottom: 8px; }
.pics img, .pics canvas { width: 72px; height: 72px; object-fit: contain; border-radius: 6px; border: 1px solid var(--line); background: #fafafa; }
.pics canvas { image-rendering: pixelated; }
.size { font-size: 12px; color: var(--muted); margin: 0; }
.bars { list-style: none; margin: 0; padding: 0; }
.bar { display: grid; grid-template-columns: 92px 1fr 52px; gap: 8px; align-items: center; margin: 3px 0; font-size: 13px; }
.bar:first-child { font-weight: 700; }
.track { height: 12px; background: #edf0f5; border-radius: 6px; overflow: hidden; }
.fill { display: block; height: 100%; background: var(--accent); border-radius: 6px; }
.bar:not(:first-child) .fill { background: #9db8e8; }
.pct { text-align: right; font-variant-numeric: tabular-nums; }
.error { color: #b3261e; }
footer { color: var(--muted); font-size: 12px; padding-bottom: 24px; }
`;
