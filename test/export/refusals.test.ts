// What export and serve refuse, each with a message naming what was wrong: an unknown format, a
// checkpoint that does not match the model it is said to be, an unknown architecture, an output that
// exists (without --force, and a folder that is not an earlier export even with it), and a write that
// fails halfway (the real CLI under `ulimit -f`: no partial output, the earlier one intact). Also the
// CLI's happy path (what it prints) and `vgg-cifar serve` as a process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportModel, exportOnnx, exportTfjs, exportWeb } from '../../lib/export/index.js';
import { serve } from '../../lib/export/serve.js';
import { serializeSafetensors } from '../../lib/nn/safetensors.js';
import { stateDict } from '../../lib/nn/state.js';
import { tempDir } from '../data/fixtures.js';
import { CLI, fixtureModel, saveFixture } from './fixtures.js';

const dir = tempDir('export-refusals');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let ckpt: string;
let weightsOnly: string;
beforeAll(() => {
  const m = fixtureModel({ depth: 11, widthDivisor: 8 }, 5);
  ckpt = saveFixture(dir, 'tiny.safetensors', m, { normalize: true });
  // A bare state dict, as PyTorch's safetensors.torch.save_file writes it: no configuration.
  weightsOnly = join(dir, 'weights.safetensors');
  writeFileSync(weightsOnly, serializeSafetensors(stateDict(m)));
  m.dispose();
});

const cli = (args: string[], ulimitKb?: number) => {
  const r = ulimitKb === undefined ? spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' })
    : spawnSync('bash', ['-c', `ulimit -f ${ulimitKb} && exec "$0" "$@"`, process.execPath, CLI, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
/** Temp files and folders of atomic writes left in `folder` (there must be none). */
const temps = (folder: string) => readdirSync(folder).filter((f) => f.startsWith('.') && f.endsWith('.tmp'));

describe('export refuses', () => {
  it('an unknown format (API and CLI), before reading anything', () => {
    expect(() => exportModel('pdf', { checkpoint: join(dir, 'missing.safetensors'), out: join(dir, 'x.pdf') })).toThrow("export: unknown format 'pdf' (choose onnx, tfjs, web)");
    const r = cli(['export', '--checkpoint', ckpt, '--format', 'keras', '--out', join(dir, 'k')]);
    expect(r.code).toBe(1);
    expect(r.err).toBe("vgg-cifar: export: unknown format 'keras' (choose onnx, tfjs, web)\n");
  });

  it('a checkpoint that does not match the model: wrong --model for a weights-only file, or flags against its configuration', () => {
    const out = join(dir, 'mismatch.onnx');
    expect(() => exportOnnx({ checkpoint: weightsOnly, out, model: 'vgg16' })).toThrow(/weights\.safetensors: error\(s\) loading the state dict:\n  missing keys \(\d+\): .*\n  unexpected keys/);
    expect(() => exportOnnx({ checkpoint: weightsOnly, out, model: 'vgg11', batchNorm: true })).toThrow(/missing keys .*net\.1\.running_mean/);
    // widths / 8 are not in the flags: the shapes do not match the full-width VGG11 either
    expect(() => exportOnnx({ checkpoint: weightsOnly, out, model: 'vgg11' })).toThrow(/wrong shape or dtype \(\d+\): net\.0\.weight: checkpoint \[8, 3, 3, 3\], model \[64, 3, 3, 3\]/);
    expect(() => exportOnnx({ checkpoint: ckpt, out, model: 'vgg16', batchNorm: true })).toThrow(
      /tiny\.safetensors: --model vgg16, --bn does not match the checkpoint, which holds a VGG11 \(report classifier\) by its own configuration; leave the flags out/);
    expect(readdirSync(dir).filter((f) => f.includes('mismatch'))).toEqual([]);
  });

  it('a weights-only file with the right flags exports (the --model/--bn path works)', () => {
    const full = fixtureModel({ depth: 11, batchNorm: true }, 6);
    const file = join(dir, 'bn-weights.safetensors');
    writeFileSync(file, serializeSafetensors(stateDict(full)));
    full.dispose();
    const r = exportOnnx({ checkpoint: file, out: join(dir, 'bn-weights.onnx'), model: 'vgg11', batchNorm: true, normalize: true, foldBn: true });
    expect(r.info.name).toBe('VGG11-BN');
    expect(r.info.foldedBn).toBe(true);
    expect(r.info.normalization).not.toBeNull();
  });

  it('a checkpoint with an unknown architecture, and files that are not checkpoints', () => {
    const resnet = join(dir, 'resnet.safetensors');
    writeFileSync(resnet, serializeSafetensors(new Map(), { 'vgg_cifar.config': JSON.stringify({ arch: 'resnet', depth: 50 }) }));
    expect(() => exportOnnx({ checkpoint: resnet, out: join(dir, 'r.onnx') })).toThrow(
      /resnet\.safetensors: the checkpoint's model configuration cannot be built: modelFromConfig: unknown arch 'resnet'/);
    const notes = join(dir, 'notes.safetensors');
    writeFileSync(notes, 'not a checkpoint');
    expect(() => exportTfjs({ checkpoint: notes, out: join(dir, 'n') })).toThrow(/notes\.safetensors/);
    expect(() => exportWeb({ checkpoint: join(dir, 'nope.safetensors'), out: join(dir, 'w') })).toThrow(/nope\.safetensors: cannot read the checkpoint/);
    // The output's folder is made only when there is something to write.
    expect(() => exportOnnx({ checkpoint: join(dir, 'nope.safetensors'), out: join(dir, 'never', 'x.onnx') })).toThrow(/cannot read the checkpoint/);
    expect(readdirSync(dir)).not.toContain('never');
    expect(exportOnnx({ checkpoint: ckpt, out: join(dir, 'made', 'for', 'it.onnx') }).files).toEqual([{ name: 'it.onnx', bytes: expect.any(Number) }]);
    expect(readdirSync(dir).some((f) => ['r.onnx', 'n', 'w'].includes(f))).toBe(false);
    expect(temps(dir)).toEqual([]);
  });

  it('an output that exists, unless --force; a folder it did not write even with --force', () => {
    const file = join(dir, 'mine.onnx');
    writeFileSync(file, 'my own file');
    expect(() => exportOnnx({ checkpoint: ckpt, out: file })).toThrow(`${file} exists; export does not replace it unless told to (--force, or force: true)`);
    expect(readFileSync(file, 'utf8')).toBe('my own file');
    const r = cli(['export', '--checkpoint', ckpt, '--format', 'onnx', '--out', file]);
    expect([r.code, r.err]).toEqual([1, `vgg-cifar: ${file} exists; export does not replace it unless told to (--force, or force: true)\n`]);
    exportOnnx({ checkpoint: ckpt, out: file, force: true });
    expect(readFileSync(file).subarray(0, 2)).not.toEqual(Buffer.from('my'));

    const folder = join(dir, 'photos');
    mkdirSync(folder);
    writeFileSync(join(folder, 'holiday.jpg'), 'precious');
    expect(() => exportWeb({ checkpoint: ckpt, out: folder })).toThrow(/photos exists; export does not replace it/);
    expect(() => exportWeb({ checkpoint: ckpt, out: folder, force: true })).toThrow(/photos is a folder that vgg-cifar did not write .* refusing to replace it even with --force/);
    expect(() => exportOnnx({ checkpoint: ckpt, out: folder, force: true })).toThrow(/photos is a folder; --format onnx writes one file/);
    expect(() => exportTfjs({ checkpoint: ckpt, out: file, force: true })).toThrow(/mine\.onnx is a file; this format writes a folder/);
    expect(readdirSync(folder)).toEqual(['holiday.jpg']);

    // An earlier export is replaced with --force, the web page by a TF.js model and back.
    const out = join(dir, 'deploy');
    exportWeb({ checkpoint: ckpt, out });
    expect(() => exportTfjs({ checkpoint: ckpt, out })).toThrow(/deploy exists/);
    exportTfjs({ checkpoint: ckpt, out, force: true });
    expect(readdirSync(out).sort()).toEqual(['group1-shard1of1.bin', 'model.json']);
    exportWeb({ checkpoint: ckpt, out, force: true });
    expect(readdirSync(out).sort()).toEqual(['index.html', 'model.onnx', 'ort-wasm-simd-threaded.wasm', 'ort.wasm.bundle.min.mjs']);
    expect(temps(dir)).toEqual([]);
  });

  it('a write that fails halfway (ulimit -f): no partial file or folder, the earlier output intact, the reason named', () => {
    const file = join(dir, 'half.onnx');
    let r = cli(['export', '--checkpoint', ckpt, '--format', 'onnx', '--out', file], 64);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`vgg-cifar: cannot write ${file}: the file is larger than this process may write (ulimit -f) (EFBIG); nothing was written\n`);
    expect(readdirSync(dir).filter((f) => f.includes('half'))).toEqual([]);
    expect(temps(dir)).toEqual([]);

    writeFileSync(file, 'earlier');
    r = cli(['export', '--checkpoint', ckpt, '--format', 'onnx', '--out', file, '--force'], 64);
    expect(r.err).toMatch(/EFBIG\); the previous half\.onnx is unchanged\n$/);
    expect(readFileSync(file, 'utf8')).toBe('earlier');
    expect(readdirSync(dir).filter((f) => f.includes('half'))).toEqual(['half.onnx']);

    // A folder: the web page's model.onnx and the 15 MB .wasm exceed the limit after index.html is written.
    const folder = join(dir, 'page');
    exportTfjs({ checkpoint: ckpt, out: folder });
    const before = readFileSync(join(folder, 'model.json'), 'utf8');
    r = cli(['export', '--checkpoint', ckpt, '--format', 'web', '--out', folder, '--force'], 2048);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`cannot write ${folder}: .*\\(EFBIG\\); the previous page is unchanged\\n$`));
    expect(readFileSync(join(folder, 'model.json'), 'utf8')).toBe(before);
    expect(readdirSync(dir).filter((f) => f.includes('page'))).toEqual(['page']);
    expect(temps(dir)).toEqual([]);
  });
});

describe('the CLI', () => {
  it('export prints what it wrote, how to load it, and notes for flags that did not apply; --json prints the result', () => {
    const out = join(dir, 'cli.onnx');
    let r = cli(['export', '--checkpoint', ckpt, '--format', 'onnx', '--out', out, '--fold-bn', '--include-normalization']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^wrote ${out}: ONNX model \\(opset 17\\), [\\d.]+ MB in [\\d.]+ s\\n  VGG11, report classifier \\(F-100-100-10\\), widths / 8, 32x32 RGB input\\n` +
      '  input float32 \\[N, 3, 32, 32\\]: RGB pixels / 255 \\(in \\[0, 1\\]\\); output: 10 logits \\(softmax for probabilities\\)\\n' +
      'note: the model has no BatchNorm: there was nothing to fold \\(--fold-bn\\)\\n$'));
    r = cli(['export', '--checkpoint', ckpt, '--format', 'web', '--out', join(dir, 'cli-web'), '--json']);
    const j = JSON.parse(r.out);
    expect(j.format).toBe('web');
    expect(j.files.map((f: { name: string }) => f.name)).toEqual(['index.html', 'model.onnx', 'ort.wasm.bundle.min.mjs', 'ort-wasm-simd-threaded.wasm']);
    expect(j.info.classes).toHaveLength(10);
  });

  it('serve runs until SIGINT, answers on 127.0.0.1 with the files, 404 for others, and exits 0', async () => {
    const folder = join(dir, 'cli-web');
    const child = spawn(process.execPath, [CLI, 'serve', folder, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const url = await new Promise<string>((ok, fail) => {
      let text = '';
      child.stdout.on('data', (d) => {
        text += d;
        const m = /at (http:\/\/127\.0\.0\.1:\d+\/) \(Ctrl-C to stop\)/.exec(text);
        if (m) ok(m[1]);
      });
      child.on('exit', (c) => fail(new Error(`serve exited ${c}`)));
    });
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(await page.text()).toContain('<meta name="generator" content="vgg-cifar');
    const wasm = await fetch(`${url}ort-wasm-simd-threaded.wasm`);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    await wasm.arrayBuffer();
    const mjs = await fetch(`${url}ort.wasm.bundle.min.mjs`);
    expect(mjs.headers.get('content-type')).toMatch(/^(text|application)\/javascript/);
    await mjs.arrayBuffer();
    expect((await fetch(`${url}missing.txt`)).status).toBe(404);
    const code = await new Promise<number | null>((ok) => {
      child.on('exit', (c) => ok(c));
      child.kill('SIGINT');
    });
    expect(code).toBe(0);
  });

  it('serve refuses a missing folder, a file, a bad port and a port in use', async () => {
    await expect(serve({ folder: join(dir, 'none') })).rejects.toThrow(/serve: .*none is not a folder/);
    await expect(serve({ folder: ckpt })).rejects.toThrow(/is not a folder/);
    await expect(serve({ folder: dir, port: 70000 })).rejects.toThrow('serve: port must be an integer from 0 to 65535, got 70000');
    const a = await serve({ folder: dir, port: 0 });
    try {
      await expect(serve({ folder: dir, port: a.port })).rejects.toThrow(`serve: port ${a.port} on 127.0.0.1 is in use; choose another with --port (0 picks a free one)`);
    } finally {
      await a.close();
    }
  });
});
