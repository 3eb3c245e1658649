// The CUDA emulator (native/emu) itself: the launch rewrite, and a program of our own kernels (probe.cu) built
// against the emulated runtime: warp shuffles and barriers meet their partners, graphs replay what they
// recorded, a capture refuses what CUDA refuses, fresh memory reads as NaN, and each fault the emulator promises
// to catch (a write past an allocation, threads waiting forever, a launch site that starts to wait) aborts
// with a message naming the kernel.
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { packageRoot } from '../../lib/backend.js';
import { tempDir } from '../data/fixtures.js';
import { unchevron } from '../../native/emu/unchevron.mjs';

const root = packageRoot();
const haveGxx = spawnSync('g++', ['--version']).status === 0;
if (!haveGxx) console.log('CUDA emulator tests skipped: g++ is not installed (scripts/setup.sh installs it)');

describe('unchevron: launches become calls', () => {
  it('rewrites template kernels, optional config arguments and nested argument lists, line for line', () => {
    const src = 'k<T, uint32_t><<<b, kThreads, 0, s>>>(x.as<T>(), f(a, (b)),\n  "str)", n);\nplain<<<1, 32>>>();\n';
    const out: string = unchevron(src);
    expect(out).toBe('::emu::launch(::emu::Config(b, kThreads, 0, s), "k<T, uint32_t>", [](auto&... a) { k<T, uint32_t>(a...); }, ' +
      'x.as<T>(), f(a, (b)),\n  "str)", n);\n::emu::launch(::emu::Config(1, 32), "plain", [](auto&... a) { plain(a...); });\n');
    expect(out.split('\n')).toHaveLength(src.split('\n').length);
  });

  it('names what it cannot rewrite', () => {
    expect(() => unchevron('k<<<1, 2>>> x;')).toThrow(/launch of k at offset 1: no argument list after >>>/);
    expect(() => unchevron('k<<<1, 2(x);')).toThrow(/<<< at offset 1 has no >>>/);
  });
});

describe.skipIf(!haveGxx)('the emulated runtime, on probe.cu', () => {
  let probe = '';
  beforeAll(() => {
    const dir = tempDir('emu-probe');
    const cc = join(dir, 'probe.cc');
    execFileSync('node', [join(root, 'native/emu/unchevron.mjs'), join(root, 'test/emu/probe.cu'), cc]);
    probe = join(dir, 'probe');
    execFileSync('g++', ['-std=c++17', '-O1', '-I', join(root, 'native/emu/include'), '-I', join(root, 'native'), cc,
      join(root, 'native/emu/runtime.cc'), '-o', probe]);
  }, 120_000);
  const run = (mode: string) => spawnSync(probe, [mode], { encoding: 'utf8' });

  it('shuffles and barriers: a block-wide sum over 3 blocks of 8 warps', () => {
    const r = run('sum');
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) {
      const [, , got, want] = l.split(' ').map(Number);
      expect(Math.abs(got - want)).toBeLessThan(1e-4 * Math.abs(want));
    }
  });

  it('fresh device memory reads as NaN, so a read of what nobody wrote shows', () => {
    expect(run('fresh').stdout.trim()).toBe('fresh nan');
  });

  it('a graph replays what it recorded on what memory holds at each launch; synchronizing, allocating and host copies invalidate a capture', () => {
    const r = run('graph');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('after capture 1 2\n');
    expect(r.stdout).toContain('after 2 launches 0 8 12 16, 2 nodes\n');
    for (const call of ['cudaMalloc', 'cudaStreamSynchronize', 'cudaMemcpyAsync to host'])
      expect(r.stdout).toContain(`${call} in capture: cudaErrorStreamCaptureUnsupported, end cudaErrorStreamCaptureInvalidated\n`);
  });

  it('a launch of more than 1,024 threads fails as a launch error', () => {
    expect(run('config').stdout.trim()).toBe('launch of 2048 threads: cudaErrorInvalidValue');
  });

  it.each([
    ['oob', /a write outside device allocation 0x[0-9a-f]+ \(400 bytes\), at offset 400, found after writePastEnd/],
    ['deadlock', /kernel halfShuffles: its threads wait for one another forever/],
    ['late-wait', /kernel waitsLater called __syncthreads after its first launch never did/],
  ])('aborts on %s, saying what and where', (mode, message) => {
    const r = run(mode);
    expect(r.signal).toBe('SIGABRT');
    expect(r.stderr).toMatch(message);
  });
});
