// The native surface under malformed calls, in a child process so that an abort or a segfault shows up
// as a crash (signal) instead of taking the test runner down: 80 table cases (tensor creation with
// negative, NaN, Infinity and enormous sizes, NaN/Infinity hyper-parameters, disposed tensors and
// views, duck-typed fakes, a cuda tensor where no CUDA backend exists) plus 2,000 seeded corruptions of
// valid calls to every op. Tensors of another backend cannot be made on a machine without a GPU, so
// mixing devices is checked in test/cuda where one is lent.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../lib/backend.js';

describe('malformed calls to the native surface (child process)', () => {
  it('every table case throws an error naming the op, no random call crashes, and memory is all returned', () => {
    const r = spawnSync(process.execPath, [join(packageRoot(), 'dist', 'bench', 'fuzz-native.js'), '--calls', '2000', '--seed', '7'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.signal, `the child died: ${r.stderr.slice(-2000)}`).toBeNull();
    expect(r.status, r.stderr.slice(-2000)).not.toBeNull();
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { table: number; tableFailures: string[]; random: number; randomFailures: string[]; accepted: number; byOp: Record<string, [number, number]> };
    expect(out.tableFailures).toEqual([]);
    expect(out.randomFailures).toEqual([]);
    expect(out.table).toBeGreaterThanOrEqual(50);
    expect(out.random).toBe(2000);
    // every op was reached, and some corrupted calls were still valid (the corruption is not all-or-nothing)
    expect(Object.keys(out.byOp).length).toBeGreaterThanOrEqual(30);
    expect(out.accepted).toBeGreaterThan(0);
    expect(r.status).toBe(0);
  });
});
