// For the CUDA emulator (README.md here): rewrites a .cu file as C++ that g++ compiles, turning each
// `kernel<<<grid, block[, shared[, stream]]>>>(args)` into `::emu::launch(::emu::Config(grid, block...),
// "kernel", [](auto&... a) { kernel(a...); }, args)` (a lambda, so that template arguments the launch leaves to
// deduction are deduced as nvcc does). Everything else is left as it is, line for line, so messages point at the .cu.
//   node native/emu/unchevron.mjs IN.cu OUT.cc   (or IN.cuh OUT.cuh)
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/** The index just past the bracket that closes the one at `open` (skipping strings and nested pairs). */
function closing(s, open, o, c) {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    const ch = s[i];
    if (ch === '"' || ch === "'") {
      for (i++; i < s.length && s[i] !== ch; i++) if (s[i] === '\\') i++;
      continue;
    }
    if (ch === o) depth++;
    else if (ch === c && --depth === 0) return i + 1;
  }
  throw new Error(`unbalanced ${o}${c} from offset ${open}`);
}

/** The start of the kernel expression that ends just before `end`: a name, with template arguments. */
function kernelStart(s, end) {
  let i = end;
  while (i > 0 && /\s/.test(s[i - 1])) i--;
  if (s[i - 1] === '>') {
    let depth = 0;
    for (i--; i >= 0; i--) {
      if (s[i] === '>') depth++;
      else if (s[i] === '<' && --depth === 0) break;
    }
    if (i < 0) throw new Error(`unbalanced template arguments before offset ${end}`);
  }
  while (i > 0 && /[\w:]/.test(s[i - 1])) i--;
  return i;
}

export function unchevron(src) {
  let out = '';
  let at = 0;
  for (;;) {
    const open = src.indexOf('<<<', at);
    if (open < 0) break;
    const close = src.indexOf('>>>', open);
    if (close < 0) throw new Error(`<<< at offset ${open} has no >>>`);
    const start = kernelStart(src, open);
    const kernel = src.slice(start, open).trim();
    let p = close + 3;
    while (/\s/.test(src[p])) p++;
    if (src[p] !== '(') throw new Error(`launch of ${kernel} at offset ${open}: no argument list after >>>`);
    const end = closing(src, p, '(', ')');
    const args = src.slice(p + 1, end - 1);
    const config = src.slice(open + 3, close);
    out += src.slice(at, start) +
      `::emu::launch(::emu::Config(${config}), ${JSON.stringify(kernel)}, [](auto&... a) { ${kernel}(a...); }${args.trim() ? ', ' + args : ''})`;
    at = end;
  }
  return out + src.slice(at);
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop())) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error('usage: node unchevron.mjs IN.cu OUT.cc');
    process.exit(2);
  }
  const src = readFileSync(input, 'utf8');
  mkdirSync(dirname(output), { recursive: true });
  // __CUDACC__: the shared headers' device-side declarations (core/hd.h, cuda/fault.h) are wanted here.
  // A .cuh is included by a .cu, after them.
  const head = input.endsWith('.cuh') ? '' : '#define __CUDACC__ 1\n#include <cuda_runtime.h>\n';
  writeFileSync(output, `${head}#line 1 "${input}"\n${unchevron(src)}`);
}
