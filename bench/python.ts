// Finds the python3 that bench/ runs PyTorch with: the one asked for, $VGG_CIFAR_PYTHON, the fallbacks, python3.
import { spawnSync } from 'node:child_process';

/** A python that imports torch, with torch's version, or why there is none (every interpreter tried). */
export function pythonWithTorch(asked?: string, ...fallbacks: string[]): { py: string; version: string } | { reason: string } {
  const tried: string[] = [];
  const list = [asked, process.env.VGG_CIFAR_PYTHON, ...fallbacks, 'python3'].filter((p): p is string => Boolean(p));
  for (const py of [...new Set(list)]) {
    const r = spawnSync(py, ['-c', 'import torch, numpy; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { py, version: r.stdout.trim() };
    tried.push(`${py}: ${(r.error?.message ?? r.stderr.trim().split('\n').at(-1)) || `exit ${r.status}`}`);
  }
  return { reason: `no python3 here imports torch and numpy (${tried.join('; ')}); install PyTorch or point VGG_CIFAR_PYTHON (or --python) at one that does` };
}
