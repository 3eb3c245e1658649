// Bounded in-memory records of a run: a training run of any length keeps the same amount of history in
// memory (and in run.json); every reading still goes to the --log JSONL file and to the event stream.

/** Most progress records history.steps (and each run segment in run.json) holds. */
export const MAX_STEP_RECORDS = 1000;
/** Most warnings history.warnings holds (each is still emitted and logged). */
export const MAX_WARNINGS = 100;

/** Drops every other record (keeping the first) until at most `cap` remain; a list already within the cap
 *  is returned as it is, so thinning the same list again changes nothing. */
export function thin<T>(list: readonly T[], cap: number): T[] {
  let out = [...list];
  while (out.length > cap) out = out.filter((_, i) => i % 2 === 0);
  return out;
}

/** Keeps an evenly spaced subset of an unbounded stream in `items`: record i (0-based, in arrival order)
 *  is kept when i % stride == 0; when `cap` records are kept, every other one is dropped and the stride
 *  doubles. So items.length stays below cap (between cap / 2 and cap once the stream is long), and the
 *  records kept are always those at multiples of the current stride. */
export class EvenlySpaced<T> {
  private stride = 1;
  private seen = 0;

  constructor(readonly items: T[], readonly cap: number = MAX_STEP_RECORDS) {
    if (!Number.isInteger(cap) || cap < 2 || cap % 2 !== 0) throw new RangeError(`EvenlySpaced: cap must be an even integer >= 2, got ${cap}`);
  }

  /** Records seen so far (kept or not). */
  get count(): number {
    return this.seen;
  }

  push(x: T): void {
    if (this.seen++ % this.stride !== 0) return;
    this.items.push(x);
    if (this.items.length < this.cap) return;
    let w = 0;
    for (let r = 0; r < this.items.length; r += 2) this.items[w++] = this.items[r];
    this.items.length = w;
    this.stride *= 2;
  }
}
