// The only module that loads the native addon (see ../shared/DESIGN.md): everything native is reached
// through `native` below, typed by binding.d.ts.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Binding, BackendInfo, Device } from '../binding.js';

export type { AdagradParams, AdamParams, Binding, BackendInfo, Device, DType, Layout, NativeGraph, NativeTensor, SgdParams } from '../binding.js';

/** The package's root folder (holds package.json), from lib/ or dist/lib/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const p = join(dir, 'package.json');
    if (existsSync(p) && JSON.parse(readFileSync(p, 'utf8')).name === 'vgg-cifar') return dir;
    dir = dirname(dir);
  }
  throw new Error('vgg-cifar: cannot find the package root (package.json) above ' + fileURLToPath(import.meta.url));
}

function loadAddon(): Binding {
  const require = createRequire(import.meta.url);
  const override = process.env.VGG_CIFAR_ADDON;
  const path = override ?? join(packageRoot(), 'build', 'Release', 'vgg_cifar.node');
  if (!existsSync(path)) {
    throw new Error(`vgg-cifar: the native addon is not built (looked for ${path}). Run \`npm install\` ` +
      '(it needs cmake, a C++17 compiler and oneDNN; in a clone on Debian/Ubuntu, `bash scripts/setup.sh` installs them and runs it).');
  }
  return require(path) as Binding;
}

export const native: Binding = loadAddon();

export function backends(): BackendInfo[] {
  return native.backends();
}

export type BackendChoice = Device | 'auto';

/** Throws, saying why, when bf16 mixed precision cannot run on this device's backend here. Whether it
 *  is faster than fp32 there is measured (bf16-speed.ts). */
export function checkBf16(device: Device): void {
  const b = backends().find((x) => x.device === device);
  if (!b?.available) throw new Error(`precision bf16: the ${device} backend cannot run here: ${b?.reason ?? 'unknown reason'}`);
  if (device === 'cpu' && b.details.bf16 === 'none') {
    throw new RangeError(`precision bf16 needs a CPU with AVX-512 (oneDNN has bf16 kernels from AVX-512 up); this CPU runs oneDNN at ${String(b.details.isa)}`);
  }
  const cc = Number(b.details.computeCapability ?? NaN);
  if (device === 'cuda' && cc < 8) throw new RangeError(`precision bf16 needs an NVIDIA GPU of compute capability 8.0 or later (Ampere); this one is ${String(b.details.computeCapability)}`);
}

/** Resolves 'auto' to cuda when it works here, else cpu; throws with the reason when `cuda` is asked
 *  for and cannot run. */
export function resolveDevice(choice: BackendChoice = 'auto'): Device {
  if (choice === 'cpu') return 'cpu'; // without asking the backends (probing CUDA takes a while)
  const all = backends();
  const cuda = all.find((b) => b.device === 'cuda');
  if (choice === 'cuda') {
    if (!cuda?.available) throw new Error(`--backend cuda: the CUDA backend cannot run here: ${cuda?.reason ?? 'unknown reason'}`);
    return 'cuda';
  }
  if (choice !== 'auto') throw new RangeError(`backend must be 'auto', 'cpu' or 'cuda', got '${String(choice)}'`);
  return cuda?.available ? 'cuda' : 'cpu';
}
