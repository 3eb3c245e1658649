// The profiler's report as text: two aligned markdown tables (per layer and op, per op kind) under a
// line that says what was measured.
import type { ProfileReport, ProfileRow } from './report.js';

const ms = (v: number) => (v >= 100 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
const tf = (v: number | null) => (v === null ? '' : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));

/** Markdown table with every column padded to its widest cell; `right` marks the numeric columns. */
export function alignedTable(head: string[], rows: string[][], right: boolean[]): string {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const cell = (s: string, i: number) => (right[i] ? s.padStart(w[i]) : s.padEnd(w[i]));
  const line = (r: string[]) => `| ${r.map(cell).join(' | ')} |`;
  const rule = `|${w.map((n, i) => (right[i] ? '-'.repeat(n + 1) + ':' : '-'.repeat(n + 2))).join('|')}|`;
  return [line(head), rule, ...rows.map(line)].join('\n');
}

const numbers = (r: ProfileRow) => [r.calls ? String(r.calls) : '', ms(r.totalMs), ms(r.msPerStep), pct(r.share), tf(r.tflops)];

export function formatProfile(p: ProfileReport): string {
  const steps = Math.max(1, p.steps);
  const title = `profile: ${p.steps} step${p.steps === 1 ? '' : 's'} on ${p.device} (${p.timing}), ${ms(p.wallMs)} ms wall, ` +
    `${ms(p.msPerStep)} ms per step; ops ${ms(p.opsMs)} ms (${pct(p.wallMs > 0 ? p.opsMs / p.wallMs : 0)}), between ops ${ms(p.betweenOpsMs)} ms`;
  const numHead = ['calls', 'total ms', 'ms/step', 'share', 'TFLOP/s'];
  const layers = alignedTable(['layer', 'op', ...numHead], p.rows.map((r) => [r.layer, r.op, ...numbers(r)]), [false, false, true, true, true, true, true]);
  const between: ProfileRow = { layer: '', op: 'between ops (host, launches, idle device)', calls: 0, totalMs: p.betweenOpsMs,
    msPerStep: p.betweenOpsMs / steps, share: p.wallMs > 0 ? p.betweenOpsMs / p.wallMs : 0, tflops: null };
  const step: ProfileRow = { layer: '', op: 'step (wall)', calls: p.steps, totalMs: p.wallMs, msPerStep: p.msPerStep, share: p.wallMs > 0 ? 1 : 0, tflops: null };
  const kinds = alignedTable(['op kind', ...numHead], [...p.kinds, between, step].map((r) => [r.op, ...numbers(r)]), [false, true, true, true, true, true]);
  return `${title}\n\n${layers}\n\n${kinds}\n`;
}
