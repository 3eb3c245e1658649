// The CUDA backend's status on machines without a GPU, driver or cuDNN: it must say exactly which piece
// is missing and where it looked. Library search and version checks are exercised with stand-in
// libraries built here with the C compiler (each case in a fresh process: the libraries load once).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backends, packageRoot } from '../../lib/backend.js';

const cuda = backends().find((b) => b.device === 'cuda')!;
const addon = process.env.VGG_CIFAR_ADDON ?? join(packageRoot(), 'build', 'Release', 'vgg_cifar.node');
const haveCc = spawnSync('cc', ['--version']).status === 0;

// Where the loader would find this machine's real cuDNN/cuBLAS (a GPU machine puts its wheels on
// LD_LIBRARY_PATH): left out of every case, so the stand-ins are what the search meets.
const machineLibraryVars = ['LD_LIBRARY_PATH', 'CUDA_HOME', 'CUDA_PATH', 'NVIDIA_WHEELS_DIR', 'VGG_CIFAR_CUDNN', 'VGG_CIFAR_CUBLAS'];
function isolatedEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of [...machineLibraryVars, 'VGG_CIFAR_CUDA_NHWC', 'VGG_CIFAR_CUDA_CONV']) delete env[k];  // each case sets the path it tests
  return env;
}

/** The cuda entry of backends() in a fresh process with the given environment (the machine's own
 *  library locations removed first). */
function cudaStatusWith(env: Record<string, string>): { available: boolean; reason?: string; details: Record<string, string> } {
  const out = execFileSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(addon)}).backends()[1]))`], {
    env: { ...isolatedEnv(), VGG_CIFAR_NO_PYTHON: '1', ...env },
    encoding: 'utf8',
  });
  return JSON.parse(out);
}

/** A shared library exporting `symbols` as stubs; `body` adds real definitions. */
function stubLibrary(path: string, symbols: string[], body: string): void {
  const src = path + '.c';
  const defined = new Set([...body.matchAll(/\b(\w+)\s*\(/g)].map((m) => m[1]));
  const stubs = symbols.filter((s) => !defined.has(s)).map((s) => `int ${s}(void) { return 0; }`).join('\n');
  writeFileSync(src, `${body}\n${stubs}\n`);
  execFileSync('cc', ['-shared', '-fPIC', '-o', path, src]);
}

const cudnnSymbols = ['cudnnGetVersion', 'cudnnGetCudartVersion', 'cudnnGetErrorString', 'cudnnCreate', 'cudnnDestroy', 'cudnnSetStream',
  'cudnnCreateTensorDescriptor', 'cudnnSetTensor4dDescriptor', 'cudnnDestroyTensorDescriptor', 'cudnnCreateFilterDescriptor',
  'cudnnSetFilter4dDescriptor', 'cudnnDestroyFilterDescriptor', 'cudnnCreateConvolutionDescriptor', 'cudnnSetConvolution2dDescriptor',
  'cudnnSetConvolutionMathType', 'cudnnDestroyConvolutionDescriptor', 'cudnnFindConvolutionForwardAlgorithmEx',
  'cudnnFindConvolutionBackwardDataAlgorithmEx', 'cudnnFindConvolutionBackwardFilterAlgorithmEx', 'cudnnConvolutionForward',
  'cudnnConvolutionBackwardData', 'cudnnConvolutionBackwardFilter', 'cudnnCreatePoolingDescriptor', 'cudnnSetPooling2dDescriptor',
  'cudnnDestroyPoolingDescriptor', 'cudnnPoolingForward', 'cudnnPoolingBackward', 'cudnnBatchNormalizationForwardTraining',
  'cudnnBatchNormalizationForwardInference', 'cudnnBatchNormalizationBackward'];
const cublasSymbols = ['cublasGetProperty', 'cublasGetStatusString', 'cublasCreate_v2', 'cublasDestroy_v2', 'cublasSetStream_v2',
  'cublasSetMathMode', 'cublasSgemm_v2'];
const cublasBody = (major: number) =>
  `int cublasGetProperty(int type, int* v) { *v = type == 0 ? ${major} : type == 1 ? 2 : 7; return 0; }`;

/** A wheel folder with stand-in cuBLAS 13 and cuDNN 9.6 (exporting cudnnSymbols and `extraCudnn`), and
 *  cudaStatusWith for it with `variable` set to a value (or left unset). */
function standInSwitch(name: string, variable: string) {
  const root = mkdtempSync(join(tmpdir(), `vgg-cuda-${name}-`));
  const lib = join(root, 'nvidia', 'cu13', 'lib');
  mkdirSync(lib, { recursive: true });
  stubLibrary(join(lib, 'libcublasLt.so.13'), ['cublasLtCreate'], '');
  stubLibrary(join(lib, 'libcublas.so.13'), cublasSymbols, cublasBody(13));
  const cudnn = (extraCudnn: string[]) =>
    stubLibrary(join(lib, 'libcudnn.so.9'), [...cudnnSymbols, ...extraCudnn], 'unsigned long cudnnGetVersion(void) { return 90600; }');
  cudnn([]);
  const withValue = (v?: string) => cudaStatusWith({ NVIDIA_WHEELS_DIR: root, ...(v === undefined ? {} : { [variable]: v }) });
  return { cudnn, withValue };
}

describe('cuda backend status', () => {
  it.skipIf(!cuda.compiled)('TF32: off by default, VGG_CIFAR_TF32=1 sets the default, setTf32() switches it; details.tf32 reports it', () => {
    const script = `const a = require(${JSON.stringify(addon)}); const t = () => a.backends()[1].details.tf32; const r = [t()];
      a.setTf32(true); r.push(t()); a.setTf32(false); r.push(t());
      try { a.setTf32('yes'); r.push('accepted'); } catch (e) { r.push(e.constructor.name + ': ' + e.message); }
      console.log(JSON.stringify(r));`;
    const run = (env: Record<string, string>) => JSON.parse(execFileSync(process.execPath, ['-e', script],
      { env: { ...process.env, VGG_CIFAR_NO_PYTHON: '1', VGG_CIFAR_TF32: '', ...env }, encoding: 'utf8' }));
    const plain = run({});
    expect(plain.slice(0, 3)).toEqual(['off', 'on', 'off']);
    expect(plain[3]).toMatch(/^TypeError: setTf32.*enabled/);
    expect(run({ VGG_CIFAR_TF32: '1' })[0]).toBe('on');
  });

  it('says which piece is missing', () => {
    if (!cuda.compiled) {
      // Built without nvcc or with VGG_CIFAR_CUDA=OFF: the reason says so.
      expect(cuda.reason).toMatch(/^not compiled into this addon: /);
      console.log(`cuda not compiled: ${cuda.reason}`);
      return;
    }
    const d = cuda.details as Record<string, string>;
    expect(d.runtime).toMatch(/^\d+\.\d+ \(static\)$/);
    expect(d.build).toMatch(/^compiled for \d/);
    expect(d.tf32).toBe('off');
    if (cuda.available) {
      expect(cuda.reason).toBeUndefined();
      expect(cuda.description).toMatch(/cuDNN 9\.\d+\.\d+, cuBLAS 1[23]\.\d+/);
      return;
    }
    console.log(`cuda unavailable here: ${cuda.reason}`);
    if (d.driver === 'none') {
      // No driver: the statically linked runtime reports error 35 without crashing.
      expect(cuda.reason).toMatch(/^no NVIDIA driver \(cudaGetDeviceCount: cudaErrorInsufficientDriver, /);
    }
    expect(d.cudnnSearched.split(', ')).toContain('<dynamic loader path>');
    if (!d.cudnn.includes(' at ')) expect(cuda.reason).toContain(`cuDNN not found (libcudnn.so.9)`);
    if (!d.cudnn.includes(' at ')) expect(cuda.reason).toContain(`looked in ${d.cudnnSearched}; set VGG_CIFAR_CUDNN`);
  });

  it.skipIf(!cuda.compiled)('searches CUDA_HOME, NVIDIA_WHEELS_DIR and the override variables, in that order after the override', () => {
    const root = mkdtempSync(join(tmpdir(), 'vgg-cuda-search-'));
    const wheels = join(root, 'site', 'nvidia');
    mkdirSync(join(wheels, 'cudnn', 'lib'), { recursive: true });
    mkdirSync(join(wheels, 'cu13', 'lib'), { recursive: true });
    mkdirSync(join(root, 'override'), { recursive: true });
    // Not a shared object: dlopen must fail with a message naming the file, and the status must carry it.
    writeFileSync(join(wheels, 'cudnn', 'lib', 'libcudnn.so.9'), 'not an ELF file');
    const s = cudaStatusWith({ CUDA_HOME: join(root, 'cuda'), NVIDIA_WHEELS_DIR: join(root, 'site'), VGG_CIFAR_CUDNN: join(root, 'override') });
    const searched = s.details.cudnnSearched.split(', ');
    expect(searched[0]).toBe(join(root, 'override'));
    expect(searched[1]).toBe('<dynamic loader path>');
    expect(searched).toContain(join(root, 'cuda', 'lib64'));
    expect(searched).toContain(join(wheels, 'cudnn', 'lib'));
    expect(searched).toContain(join(wheels, 'cu13', 'lib'));
    expect(searched.indexOf(join(root, 'cuda', 'lib64'))).toBeLessThan(searched.indexOf(join(wheels, 'cudnn', 'lib')));
    expect(s.reason).toMatch(/cuDNN not found \(libcudnn\.so\.9\): .*libcudnn\.so\.9: (invalid ELF header|file too short)/);
  });

  it.skipIf(!cuda.compiled || !haveCc)('loads stand-in libraries from a wheel folder and checks their versions', () => {
    const root = mkdtempSync(join(tmpdir(), 'vgg-cuda-libs-'));
    const cudnnDir = join(root, 'nvidia', 'cudnn', 'lib');
    const cublasDir = join(root, 'nvidia', 'cu13', 'lib');
    mkdirSync(cudnnDir, { recursive: true });
    mkdirSync(cublasDir, { recursive: true });
    stubLibrary(join(cublasDir, 'libcublasLt.so.13'), ['cublasLtCreate'], '');
    stubLibrary(join(cublasDir, 'libcublas.so.13'), cublasSymbols, cublasBody(13));
    stubLibrary(join(cudnnDir, 'libcudnn.so.9'), cudnnSymbols,
      'unsigned long cudnnGetVersion(void) { return 90600; }\nunsigned long cudnnGetCudartVersion(void) { return 12080; }');
    let s = cudaStatusWith({ NVIDIA_WHEELS_DIR: root });
    expect(s.details.cudnn).toBe(`9.6.0 at ${join(cudnnDir, 'libcudnn.so.9')}`);
    expect(s.details.cudnnBuiltForCuda).toBe('12.8');
    expect(s.details.cublas).toBe(`13.2.7 at ${join(cublasDir, 'libcublas.so.13')}`);
    expect(s.reason ?? '').not.toMatch(/cuDNN|cuBLAS/);

    // cuDNN 8 is refused with its version; a library missing functions is named with what it lacks.
    stubLibrary(join(cudnnDir, 'libcudnn.so.9'), cudnnSymbols, 'unsigned long cudnnGetVersion(void) { return 8907; }');
    s = cudaStatusWith({ NVIDIA_WHEELS_DIR: root });
    expect(s.reason).toContain(`cuDNN 8.9.7 at ${join(cudnnDir, 'libcudnn.so.9')} is too old (need 9.0 or newer)`);
    stubLibrary(join(cudnnDir, 'libcudnn.so.9'), ['cudnnCreate'], 'unsigned long cudnnGetVersion(void) { return 90100; }');
    s = cudaStatusWith({ NVIDIA_WHEELS_DIR: root });
    expect(s.reason).toMatch(/cuDNN 9\.1\.0 at .* lacks cudnnGetCudartVersion, cudnnGetErrorString, cudnnDestroy,/);

    // cuBLAS 12 is accepted when 13 is absent; an explicit override file wins over the wheels.
    const old = join(root, 'old');
    mkdirSync(old);
    stubLibrary(join(old, 'libcublasLt.so.12'), ['cublasLtCreate'], '');
    stubLibrary(join(old, 'libcublas.so.12'), cublasSymbols, cublasBody(12));
    s = cudaStatusWith({ NVIDIA_WHEELS_DIR: root, VGG_CIFAR_CUBLAS: join(old, 'libcublas.so.12') });
    expect(s.details.cublas).toBe(`12.2.7 at ${join(old, 'libcublas.so.12')}`);
  });

  it.skipIf(!cuda.compiled || !haveCc)('VGG_CIFAR_CUDA_NHWC: checked once with the allowed values, reported in details.nhwc; cudnn-ex names the *Ex calls a cuDNN lacks', () => {
    const { cudnn, withValue: withPath } = standInSwitch('nhwc', 'VGG_CIFAR_CUDA_NHWC');  // a cuDNN without the *Ex calls
    for (const v of [undefined, '', 'auto']) {
      const s = withPath(v);
      expect(s.details.nhwc).toMatch(/^auto: per shape, the fastest on this GPU of our kernels, cuDNN's legacy calls \(the loaded cuDNN lacks cudnnCreateActivationDescriptor .* whose results agree with our kernels' \(details.nhwcTuned\)$/);
      expect(s.details.nhwcTuned).toBe('none yet');
    }
    expect(withPath('ours').details.nhwc).toMatch(/^ours: /);
    expect(withPath('ours').details.nhwcTuned).toBeUndefined();
    expect(withPath('cudnn').details.nhwc).toMatch(/^cudnn: cuDNN's legacy/);
    const lacking = withPath('cudnn-ex');
    expect(lacking.details.cudnn).toMatch(/^9\.6\.0 at /);  // optional: their absence does not stop cuDNN from loading
    expect(lacking.details.nhwc).toBe('cudnn-ex requested, but the loaded cuDNN lacks cudnnCreateActivationDescriptor cudnnSetActivationDescriptor ' +
      'cudnnDestroyActivationDescriptor cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize cudnnGetBatchNormalizationBackwardExWorkspaceSize ' +
      'cudnnGetBatchNormalizationTrainingExReserveSpaceSize cudnnBatchNormalizationForwardTrainingEx cudnnBatchNormalizationBackwardEx: ' +
      "BatchNorm runs our kernels; pooling through cuDNN's legacy calls (there is no *Ex pooling)");
    expect(lacking.details.nhwcEx).toBe('ran through cuDNN: none yet. Refused (our kernels ran): none. Backwards without a matching *Ex forward (our kernels ran): 0');
    expect(lacking.reason ?? '').not.toMatch(/NHWC|cudnn-ex/);

    cudnn(['cudnnCreateActivationDescriptor', 'cudnnSetActivationDescriptor',
      'cudnnDestroyActivationDescriptor', 'cudnnGetBatchNormalizationForwardTrainingExWorkspaceSize', 'cudnnGetBatchNormalizationBackwardExWorkspaceSize',
      'cudnnGetBatchNormalizationTrainingExReserveSpaceSize', 'cudnnBatchNormalizationForwardTrainingEx', 'cudnnBatchNormalizationBackwardEx']);
    expect(withPath('cudnn-ex').details.nhwc).toMatch(/^cudnn-ex: BatchNorm training through cudnnBatchNormalization\*Ex \(SPATIAL_PERSISTENT, fused ReLU\)/);
    expect(withPath('auto').details.nhwc).toMatch(/^auto: per shape, the fastest on this GPU of our kernels, cuDNN's legacy calls and \(BatchNorm\) the \*Ex calls whose/);

    // A value that is none of them makes the backend unavailable, saying which values are allowed.
    const bad = withPath('cuDNN-ex');
    expect(bad.available).toBe(false);
    expect(bad.reason).toContain('VGG_CIFAR_CUDA_NHWC="cuDNN-ex" is not one of: auto (the default, also when unset), ours, cudnn, cudnn-ex');
    expect(bad.details.nhwc).toMatch(/^invalid: VGG_CIFAR_CUDA_NHWC="cuDNN-ex"/);
    expect(bad.details.nhwcEx).toBeUndefined();
  });

  it.skipIf(!cuda.compiled || !haveCc)('VGG_CIFAR_CUDA_CONV: checked once with the allowed values, reported in details.conv; fused names the graph-API calls a cuDNN lacks', () => {
    const { cudnn, withValue: withPath } = standInSwitch('conv', 'VGG_CIFAR_CUDA_CONV');  // a cuDNN without the graph API
    for (const v of [undefined, '', 'legacy']) {
      const s = withPath(v);
      expect(s.details.conv).toMatch(/^legacy: cudnnConvolutionForward/);
      expect(s.details.convFused).toBeUndefined();
    }
    const graphCalls = ['cudnnBackendCreateDescriptor', 'cudnnBackendDestroyDescriptor', 'cudnnBackendFinalize', 'cudnnBackendSetAttribute',
      'cudnnBackendGetAttribute', 'cudnnBackendExecute'];
    const lacking = withPath('fused');
    expect(lacking.details.cudnn).toMatch(/^9\.6\.0 at /);  // optional: their absence does not stop cuDNN from loading
    expect(lacking.details.conv).toBe(`fused requested, but the loaded cuDNN lacks ${graphCalls.join(' ')}: convolutions run the legacy path`);
    expect(lacking.details.convFused).toBe('ran fused: none yet. Refused (the legacy path ran): none. ' +
      'Calls with a pointer not 16-byte aligned (the legacy path ran): 0');
    expect(lacking.reason ?? '').not.toMatch(/VGG_CIFAR_CUDA_CONV|fused/);

    cudnn(graphCalls);
    expect(withPath('fused').details.conv).toMatch(/^fused: convolution \+ bias \(\+ReLU\) as one cuDNN graph-API execution plan per shape/);

    // A value that is none of them makes the backend unavailable, saying which values are allowed.
    const bad = withPath('Fused');
    expect(bad.available).toBe(false);
    expect(bad.reason).toContain('VGG_CIFAR_CUDA_CONV="Fused" is not one of: legacy (the default, also when unset), fused');
    expect(bad.details.conv).toMatch(/^invalid: VGG_CIFAR_CUDA_CONV="Fused"/);
    expect(bad.details.convFused).toBeUndefined();
  });

  it.skipIf(!cuda.compiled)("finds Python's nvidia wheels once and caches the answer", () => {
    const root = mkdtempSync(join(tmpdir(), 'vgg-cuda-python-'));
    const bin = join(root, 'bin');
    const nvidia = join(root, 'site-packages', 'nvidia');
    mkdirSync(bin);
    mkdirSync(join(nvidia, 'cudnn', 'lib'), { recursive: true });
    const marker = join(root, 'python-ran');
    // A stand-in python3 that prints the nvidia package folder and leaves a marker each time it runs.
    writeFileSync(join(bin, 'python3'), `#!/bin/sh\necho run >> ${marker}\necho ${nvidia}\n`);
    chmodSync(join(bin, 'python3'), 0o755);
    const env = { VGG_CIFAR_NO_PYTHON: '0', PATH: `${bin}:${process.env.PATH}`, XDG_CACHE_HOME: join(root, 'cache') };
    const first = cudaStatusWith(env);
    expect(first.details.cudnnSearched.split(', ')).toContain(join(nvidia, 'cudnn', 'lib'));
    expect(existsSync(join(root, 'cache', 'vgg-cifar', 'nvidia-wheels.txt'))).toBe(true);
    const second = cudaStatusWith(env);
    expect(second.details.cudnnSearched).toBe(first.details.cudnnSearched);
    expect(readFileSync(marker, 'utf8').trim().split('\n')).toEqual(['run']);  // ran once for both processes
  });

  it.skipIf(!cuda.compiled || !haveCc)('does not run Python when the libraries are found elsewhere', () => {
    const root = mkdtempSync(join(tmpdir(), 'vgg-cuda-nopython-'));
    const bin = join(root, 'bin');
    mkdirSync(bin);
    const marker = join(root, 'python-ran');
    writeFileSync(join(bin, 'python3'), `#!/bin/sh\necho run >> ${marker}\n`);
    chmodSync(join(bin, 'python3'), 0o755);
    const lib = join(root, 'nvidia', 'cu13', 'lib');
    mkdirSync(lib, { recursive: true });
    stubLibrary(join(lib, 'libcublas.so.13'), cublasSymbols, cublasBody(13));
    stubLibrary(join(lib, 'libcudnn.so.9'), cudnnSymbols, 'unsigned long cudnnGetVersion(void) { return 90300; }');
    const s = cudaStatusWith({ VGG_CIFAR_NO_PYTHON: '0', PATH: `${bin}:${process.env.PATH}`, XDG_CACHE_HOME: join(root, 'cache'),
      NVIDIA_WHEELS_DIR: root });
    expect(s.details.cudnn).toBe(`9.3.0 at ${join(lib, 'libcudnn.so.9')}`);
    expect(existsSync(marker)).toBe(false);
  });
});
