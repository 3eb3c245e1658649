// Ranks candidate recipes in several sets of runs (time-to-accuracy output folders, or a results file
// such as bench/recipes/cpu-proxy-results.json) and says how well each proxy set orders them the way the
// reference set does. Usage:
//   node dist/bench/proxy-ranking.js --sets cpu-w4=bench/recipes/cpu-proxy-results.json,gpu-w4=OUT/w4,gpu-w1=OUT/w1 \
//     --reference gpu-w1 [--out OUT/ranking.md]
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command } from 'commander';
import { formatRanking, rankedSet, type RankedSet } from './recipes/ranking.js';
import type { RunResult } from './recipes/summary.js';

/** The runs of a time-to-accuracy folder (its summary.json) or of a JSON file holding `results`. */
export function readResults(path: string): RunResult[] {
  const file = existsSync(path) && statSync(path).isDirectory() ? join(path, 'summary.json') : path;
  if (!existsSync(file)) throw new Error(`proxy-ranking: ${file} does not exist (a time-to-accuracy --out folder or a results file)`);
  const json = JSON.parse(readFileSync(file, 'utf8')) as { results?: unknown };
  if (!Array.isArray(json.results)) throw new Error(`proxy-ranking: ${file} holds no "results" array`);
  return json.results as RunResult[];
}

function main(): void {
  const program = new Command('proxy-ranking')
    .requiredOption('--sets <list>', 'name=path pairs, comma-separated (a time-to-accuracy --out folder or a results JSON)')
    .requiredOption('--reference <name>', 'the set the others are judged against (full width on a GPU)')
    .option('--out <file>', 'also write the table here');
  program.parse();
  const f = program.opts<{ sets: string; reference: string; out?: string }>();
  const sets: RankedSet[] = f.sets.split(',').map((pair) => {
    const at = pair.indexOf('=');
    if (at <= 0) throw new Error(`proxy-ranking: --sets wants name=path pairs, got '${pair}'`);
    return rankedSet(pair.slice(0, at), readResults(pair.slice(at + 1)));
  });
  const reference = sets.find((s) => s.name === f.reference);
  if (!reference) throw new Error(`proxy-ranking: --reference '${f.reference}' is not one of ${sets.map((s) => s.name).join(', ')}`);
  const table = formatRanking(sets, reference);
  if (f.out) writeFileSync(f.out, table + '\n');
  process.stdout.write(table + '\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
