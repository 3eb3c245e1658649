// lib/ stands in floors (the developers' guide: cli -> report -> train -> models/optim -> nn/data ->
// tensor -> backend): a module imports from its own unit or from a lower floor, never upward or sideways.
// What a lower floor has to tell a higher one goes up as an event or a hook (the training loop's
// onPublish; lib/optim's Optimizer implementing lib/nn's StatefulOptimizer). Every form of import counts:
// `import`, `import type`, `export … from`, a bare `import '…'` and a dynamic `import(…)`.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Top to bottom. A unit is a folder of lib/ or a file at its root. */
const FLOORS: ReadonlyArray<readonly string[]> = [
  ['cli', 'index.ts'], // the commands; the package's API
  ['export'], // ONNX, TF.js and the web page from a checkpoint (reads it the way the report does)
  ['report'], // report.html, visualize, predict; train() and runTraining() publishing run.json + report.html
  ['train'], // the loop and its events, run folders and run.json, evaluation
  ['models', 'optim', 'profile'],
  ['nn', 'data'],
  ['tensor.ts', 'step-graphs.ts', 'bf16-speed.ts'],
  ['bf16-cache.ts', 'cpu-contention.ts'],
  ['backend.ts', 'atomic-file.ts'],
];

const LIB = fileURLToPath(new URL('../lib', import.meta.url));
const floorOf = new Map(FLOORS.flatMap((units, i) => units.map((u) => [u, FLOORS.length - i] as const)));

/** The unit a path under lib/ belongs to (a root file by its .ts name), or null outside lib/. */
function unitOf(path: string): string | null {
  const rel = relative(LIB, path);
  if (rel.startsWith('..')) return null;
  const [first, ...rest] = rel.split(sep);
  return rest.length ? first : first.replace(/\.js$/, '.ts');
}

/** Import specifiers of a source text, in order; a dynamic import of anything but a plain string is
 *  returned as itself (it cannot be checked, so it fails). */
function specifiers(src: string): string[] {
  const found: Array<[number, string]> = [];
  for (const m of src.matchAll(/\b(?:from|import)\s*\(?\s*(['"])([^'"]+)\1/g)) found.push([m.index, m[2]]);
  for (const m of src.matchAll(/\bimport\s*\(\s*(?!['"][^'"]+['"]\s*[,)])[^)]*\)/g)) found.push([m.index, m[0]]);
  return found.sort((a, b) => a[0] - b[0]).map(([, s]) => s);
}

/** Why `file` (a lib/ path) may not import `spec`, or null when it may. */
function violation(file: string, spec: string): string | null {
  if (spec.startsWith('import')) return `a dynamic ${spec} that cannot be checked`;
  if (!spec.startsWith('.')) return null; // node: built-ins and packages
  const from = unitOf(file)!;
  const to = unitOf(resolve(dirname(file), spec));
  if (to === null) return spec.endsWith('/binding.js') ? null : `${spec} is outside lib/`;
  if (to === from) return null;
  const [a, b] = [floorOf.get(from), floorOf.get(to)];
  if (a === undefined || b === undefined) return `${a === undefined ? from : to} is on no floor of FLOORS`;
  if (b > a) return `${from} imports ${to}, a higher floor`;
  if (b === a) return `${from} imports ${to}, beside it on the same floor`;
  return null;
}

function sources(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('the floors of lib/', () => {
  it('the table has every unit of lib/ on one floor, and follows the guide: cli -> report -> train -> models/optim -> nn/data -> tensor -> backend', () => {
    const units = [...new Set(sources(LIB).map((f) => unitOf(f)!))].sort();
    expect([...floorOf.keys()].sort()).toEqual(units);
    expect(FLOORS.flat()).toHaveLength(floorOf.size);
    const chain = [['cli'], ['report'], ['train'], ['models', 'optim'], ['nn', 'data'], ['tensor.ts'], ['backend.ts']];
    for (let i = 1; i < chain.length; i++) {
      for (const upper of chain[i - 1]) for (const lower of chain[i]) expect(floorOf.get(upper)!, `${upper} above ${lower}`).toBeGreaterThan(floorOf.get(lower)!);
    }
  });

  it('finds every form of import, and refuses the upward ones', () => {
    const src = [
      "import type { RunSnapshot } from '../report/run-file.js';",
      'import {\n  publishRun,\n  type X,\n} from "../report/publish.js";',
      "export * from './events.js';",
      "import './side-effect.js';",
      "const { main } = await import('../cli/main.js');",
      'const m = await import(name);',
      "// a comment that says where publishRun() comes from, with no specifier",
      "import { readFileSync } from 'node:fs';",
    ].join('\n');
    const specs = specifiers(src);
    expect(specs).toEqual(['../report/run-file.js', '../report/publish.js', './events.js', './side-effect.js', '../cli/main.js', 'import(name)', 'node:fs']);
    const file = join(LIB, 'train', 'loop.ts');
    expect(specs.map((s) => violation(file, s))).toEqual([
      'train imports report, a higher floor', 'train imports report, a higher floor', null, null, 'train imports cli, a higher floor',
      'a dynamic import(name) that cannot be checked', null,
    ]);
    expect(violation(join(LIB, 'nn', 'checkpoint.ts'), '../optim/optimizer.js')).toBe('nn imports optim, a higher floor');
    expect(violation(join(LIB, 'models', 'vgg.ts'), '../optim/sgd.js')).toBe('models imports optim, beside it on the same floor');
    expect(violation(join(LIB, 'report', 'publish.ts'), '../train/run-file.js')).toBeNull();
    expect(violation(join(LIB, 'optim', 'optimizer.ts'), '../nn/optimizer-state.js')).toBeNull();
  });

  it('no module of lib/ imports upward or sideways (import type and dynamic import included)', () => {
    const bad: string[] = [];
    let checked = 0;
    for (const file of sources(LIB)) {
      for (const spec of specifiers(readFileSync(file, 'utf8'))) {
        checked++;
        const why = violation(file, spec);
        if (why) bad.push(`${relative(LIB, file)}: '${spec}': ${why}`);
      }
    }
    expect(checked).toBeGreaterThan(300);
    expect(bad).toEqual([]);
  });
});
