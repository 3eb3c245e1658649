// What one training run of a recipe prints, one JSON object a line, whoever trains it (ours:
// run-ours.ts; PyTorch: bench/pytorch/recipe.py). Times are training time only: every epoch's test
// evaluation, checkpoints and reports are outside them.
export type TtaName = 'none' | 'flip';

export type RunLine =
  | { kind: 'start'; impl: string; device: string; options: Record<string, unknown> }
  /** trainSeconds: cumulative training time at the end of this epoch. */
  | { kind: 'epoch'; epoch: number; trainSeconds: number; testAccuracy: number; tta: TtaName }
  /** The final model evaluated both ways, whatever the recipe's own mode. */
  | { kind: 'final'; accuracy: Record<TtaName, number> }
  | { kind: 'error'; message: string };

/** Parses a run's output, skipping lines that are not ours (warnings, library chatter). */
export function parseRunLines(text: string): RunLine[] {
  const out: RunLine[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const o = JSON.parse(line) as RunLine;
      if (o && typeof o === 'object' && typeof o.kind === 'string') out.push(o);
    } catch {
      // a line that only looks like JSON
    }
  }
  return out;
}
