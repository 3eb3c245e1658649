// The cache of the measured bf16 speed: keyed by the configuration it was measured under (a change of
// CPU model or oneDNN version measures again), bounded, written atomically, and a corrupt or foreign
// file is ignored, never fatal.
import { describe, expect, it } from 'vitest';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { backends, native } from '../lib/backend.js';
import { cpuModel, currentKey, defaultCacheFile, readCachedSpeed, writeCachedSpeed, type Bf16Speed, type Bf16SpeedKey } from '../lib/bf16-cache.js';
import { tempDir } from './data/fixtures.js';

const KEY: Bf16SpeedKey = { cpu: 'AMD EPYC (AuthenticAMD family 26 model 2 stepping 1)', onednn: '2.6.3', isa: 'avx512_core_bf16', threads: 2,
  convolution: 'Winograd…', addon: '0.1.0' };
const speed = (speedup: number, at = '2026-12-01T10:00:00.000Z'): Bf16Speed =>
  ({ speedup, fp32Ms: 10 * speedup, bf16Ms: 10, workload: 'test convs', measuredAt: at, tookMs: 400, contention: 0.01 });
const file = () => join(tempDir('bf16-cache'), 'vgg-cifar', 'bf16-speed.json');

describe('bf16 speed cache', () => {
  it('stores and reads back an entry, creating the folder; the file is JSON a person can read', () => {
    const f = file();
    expect(readCachedSpeed(f, KEY)).toBeNull();
    expect(writeCachedSpeed(f, KEY, speed(1.4))).toBeNull();
    expect(readCachedSpeed(f, KEY)).toEqual(speed(1.4));
    expect(JSON.parse(readFileSync(f, 'utf8')).entries[0].key.cpu).toBe(KEY.cpu);
    // atomic write: no temp file left beside it
    expect(readdirSync(join(f, '..'))).toEqual(['bf16-speed.json']);
  });

  it('is keyed: another CPU model, oneDNN version, ISA cap, thread count or addon version finds nothing; each keeps its own entry', () => {
    const f = file();
    writeCachedSpeed(f, KEY, speed(1.4));
    const others: Bf16SpeedKey[] = [{ ...KEY, cpu: 'Intel Xeon Platinum 8480+' }, { ...KEY, onednn: '3.4.1' }, { ...KEY, isa: 'avx512_core_amx' },
      { ...KEY, threads: 1 }, { ...KEY, addon: '0.2.0' }, { ...KEY, convolution: 'direct' }];
    for (const k of others) expect(readCachedSpeed(f, k), JSON.stringify(k)).toBeNull();
    writeCachedSpeed(f, others[0], speed(0.5));
    expect(readCachedSpeed(f, others[0])!.speedup).toBe(0.5);
    expect(readCachedSpeed(f, KEY)!.speedup).toBe(1.4);
    // measuring again under a key replaces its entry
    writeCachedSpeed(f, KEY, speed(1.2, '2026-12-02T10:00:00.000Z'));
    expect(readCachedSpeed(f, KEY)!.speedup).toBe(1.2);
    expect(JSON.parse(readFileSync(f, 'utf8')).entries).toHaveLength(2);
  });

  it('keeps the 32 newest configurations', () => {
    const f = file();
    for (let t = 0; t < 40; t++) writeCachedSpeed(f, { ...KEY, threads: t + 1 }, speed(1, new Date(Date.UTC(2026, 0, 1, t)).toISOString()));
    expect(JSON.parse(readFileSync(f, 'utf8')).entries).toHaveLength(32);
    expect(readCachedSpeed(f, { ...KEY, threads: 40 })).not.toBeNull();
    expect(readCachedSpeed(f, { ...KEY, threads: 8 })).toBeNull();
    expect(readCachedSpeed(f, { ...KEY, threads: 9 })).not.toBeNull();
  });

  it('ignores a corrupt or foreign file (and replaces it at the next write)', () => {
    const good = JSON.stringify({ version: 1, entries: [{ key: KEY, speed: speed(1.4) }] });
    const bad: Array<[string, string]> = [
      ['not JSON', 'garbage{'],
      ['truncated', good.slice(0, good.length - 5)],
      ['empty', ''],
      ['another version', good.replace('"version":1', '"version":2')],
      ['entries not a list', JSON.stringify({ version: 1, entries: {} })],
      ['a negative speed-up', JSON.stringify({ version: 1, entries: [{ key: KEY, speed: speed(-1) }] })],
      ['a NaN time', good.replace('"bf16Ms":10', '"bf16Ms":"NaN"')],
      ['a key field missing', JSON.stringify({ version: 1, entries: [{ key: { ...KEY, onednn: undefined }, speed: speed(1.4) }] })],
      ['contention out of range', JSON.stringify({ version: 1, entries: [{ key: KEY, speed: { ...speed(1.4), contention: 7 } }] })],
      ['larger than 1 MB', good.slice(0, -1) + ',"pad":"' + 'x'.repeat(1 << 20) + '"}'],
      ['null', 'null'],
    ];
    for (const [what, text] of bad) {
      const f = file();
      writeCachedSpeed(f, { ...KEY, cpu: 'other' }, speed(2));  // makes the folder
      writeFileSync(f, text);
      expect(readCachedSpeed(f, KEY), what).toBeNull();
      expect(writeCachedSpeed(f, KEY, speed(1.3)), what).toBeNull();
      expect(readCachedSpeed(f, KEY)!.speedup, what).toBe(1.3);
    }
    // one bad entry does not hide the good ones
    const f = file();
    writeCachedSpeed(f, KEY, speed(1.4));
    const j = JSON.parse(readFileSync(f, 'utf8'));
    j.entries.unshift({ key: { ...KEY, cpu: 'x' }, speed: { speedup: 'fast' } });
    writeFileSync(f, JSON.stringify(j));
    expect(readCachedSpeed(f, KEY)!.speedup).toBe(1.4);
  });

  it('a cache that cannot be written is reported, not thrown', () => {
    const dir = tempDir('bf16-cache-ro');
    writeFileSync(join(dir, 'vgg-cifar'), 'a file where the folder should be');
    const why = writeCachedSpeed(join(dir, 'vgg-cifar', 'bf16-speed.json'), KEY, speed(1.4));
    expect(why).toMatch(/vgg-cifar/);
    if (process.getuid?.() !== 0) {  // root writes anywhere
      const ro = tempDir('bf16-cache-ro2');
      chmodSync(ro, 0o500);
      expect(writeCachedSpeed(join(ro, 'bf16-speed.json'), KEY, speed(1.4))).toMatch(/permission denied/);
    }
  });

  it('lives in $XDG_CACHE_HOME/vgg-cifar, else ~/.cache/vgg-cifar', () => {
    expect(defaultCacheFile({ XDG_CACHE_HOME: '/x/cache' })).toBe('/x/cache/vgg-cifar/bf16-speed.json');
    expect(defaultCacheFile({})).toBe(join(homedir(), '.cache', 'vgg-cifar', 'bf16-speed.json'));
  });

  it("keys this process by CPU model (with Linux's family/model/stepping), oneDNN version, ISA, threads, convolution policy and addon", () => {
    const cpuinfo = 'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 26\nmodel\t\t: 2\nmodel name\t: AMD EPYC\nstepping\t: 1\n';
    expect(cpuModel(cpuinfo)).toBe('AMD EPYC (AuthenticAMD family 26 model 2 stepping 1)');
    expect(cpuModel(null)).toBeTruthy();
    const cpu = backends().find((b) => b.device === 'cpu')!;
    const k = currentKey();
    expect(k.onednn.startsWith(String(cpu.details.onednn))).toBe(true);
    expect(k).toMatchObject({ isa: cpu.details.isa, threads: native.getThreads(), convolution: cpu.details.convolution, addon: native.version });
    if (existsSync('/proc/cpuinfo')) expect(k.cpu).toMatch(/family \d+ model \d+/);
  });
});
