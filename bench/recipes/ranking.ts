// How well a cheap proxy (VGG16-BN at width / 4, on the CPU or the GPU) ranks candidate recipes the way
// the real thing (full width on a GPU) does: per set of runs, each candidate's mean final test accuracy
// (no TTA, ours only), its rank, and per proxy the share of candidate pairs it orders as the reference
// does (Kendall's tau = 2·share − 1). Issue 16 asks for this before a proxy's choice is trusted.
import { spread, type RunResult, type Spread } from './summary.js';

export interface RankedSet {
  name: string;
  /** Final no-TTA accuracy per candidate over its seeds. */
  byCandidate: Map<string, Spread>;
}

/** A set's per-candidate accuracies from time-to-accuracy results (vgg-cifar runs that finished). */
export function rankedSet(name: string, results: readonly RunResult[]): RankedSet {
  const values = new Map<string, number[]>();
  for (const r of results) {
    if (r.impl !== 'vgg-cifar' || r.status !== 'ok' || !r.final) continue;
    const list = values.get(r.candidate) ?? [];
    list.push(r.final.none);
    values.set(r.candidate, list);
  }
  return { name, byCandidate: new Map([...values].map(([c, v]) => [c, spread(v)])) };
}

/** Rank 1 = the highest mean; ties share the better rank. */
export function ranks(set: RankedSet, candidates: readonly string[]): Map<string, number> {
  const means = candidates.map((c) => set.byCandidate.get(c)?.mean ?? NaN);
  return new Map(candidates.map((c, i) => [c, 1 + means.filter((m) => m > means[i]).length]));
}

export interface Agreement { pairs: number; concordant: number; discordant: number; ties: number; tau: number }

/** Pairs of candidates both sets order the same way (Kendall's tau-a over the candidates both have). */
export function agreement(proxy: RankedSet, reference: RankedSet): Agreement {
  const common = [...reference.byCandidate.keys()].filter((c) => proxy.byCandidate.has(c));
  let concordant = 0;
  let discordant = 0;
  let ties = 0;
  for (let i = 0; i < common.length; i++) {
    for (let j = i + 1; j < common.length; j++) {
      const p = Math.sign(proxy.byCandidate.get(common[i])!.mean - proxy.byCandidate.get(common[j])!.mean);
      const r = Math.sign(reference.byCandidate.get(common[i])!.mean - reference.byCandidate.get(common[j])!.mean);
      if (p === 0 || r === 0) ties++;
      else if (p === r) concordant++;
      else discordant++;
    }
  }
  const pairs = concordant + discordant + ties;
  return { pairs, concordant, discordant, ties, tau: pairs ? (concordant - discordant) / pairs : NaN };
}

const pct = (s: Spread | undefined) => (s && s.n ? `${(100 * s.mean).toFixed(2)}${s.n > 1 ? ` ± ${(100 * s.std).toFixed(2)}` : ''} (${s.n})` : '–');

/** One row per candidate of the reference (then the others), a column pair per set, agreement lines last. */
export function formatRanking(sets: readonly RankedSet[], reference: RankedSet): string {
  const candidates = [...new Set([...reference.byCandidate.keys(), ...sets.flatMap((s) => [...s.byCandidate.keys()])])];
  const rk = new Map(sets.map((s) => [s.name, ranks(s, candidates)]));
  const lines = [
    `| candidate | ${sets.map((s) => `${s.name}: no-TTA % (seeds) | rank`).join(' | ')} |`,
    `|---|${sets.map(() => '---:|---:').join('|')}|`,
    ...candidates.map((c) => `| ${c} | ${sets.map((s) => {
      const sp = s.byCandidate.get(c);
      return `${pct(sp)} | ${sp ? rk.get(s.name)!.get(c) : '–'}`;
    }).join(' | ')} |`),
    '',
  ];
  for (const s of sets) {
    if (s === reference) continue;
    const a = agreement(s, reference);
    lines.push(`${s.name} against ${reference.name}: ${a.concordant} of ${a.pairs} pairs ordered alike, ${a.discordant} reversed, ${a.ties} tied; ` +
      `Kendall tau ${Number.isNaN(a.tau) ? 'n/a' : a.tau.toFixed(2)}`);
  }
  return lines.join('\n');
}
