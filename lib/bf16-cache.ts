// The measured bf16/fp32 speed of this CPU, kept in ~/.cache/vgg-cifar/ (XDG_CACHE_HOME when set) so
// the measurement runs once per machine. An entry holds the key it was measured under: the CPU model,
// oneDNN's version, the ISA oneDNN dispatches to (DNNL_MAX_CPU_ISA can cap it), the thread count, the
// convolution policy and the addon's version; a change in any of them measures again. The file is ours
// and untrusted all the same: a corrupt or foreign file is ignored (and replaced at the next write).
import { closeSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { cpus, homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { backends, native } from './backend.js';

export interface Bf16SpeedKey {
  cpu: string;
  onednn: string;
  isa: string;
  threads: number;
  convolution: string;
  addon: string;
}

export interface Bf16Speed {
  /** fp32 time over bf16 time for the same work: above 1, bf16 is faster. */
  speedup: number;
  fp32Ms: number;
  bf16Ms: number;
  /** What was timed, in words. */
  workload: string;
  /** ISO 8601 time of the measurement. */
  measuredAt: string;
  /** Wall time of the whole measurement, first calls (kernel generation) included. */
  tookMs: number;
  /** The share of our cores other processes took meanwhile (0 quiet, 1 all); null where unknown. */
  contention: number | null;
}

const FILE_VERSION = 1;
/** Entries kept: one per configuration a machine has run (thread counts, ISA caps); the oldest go. */
const MAX_ENTRIES = 32;
/** A cache file larger than this is not ours: ignored unread. */
const MAX_FILE_BYTES = 1 << 20;

interface Entry { key: Bf16SpeedKey; speed: Bf16Speed }

export function defaultCacheFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'vgg-cifar', 'bf16-speed.json');
}

/** The CPU's model as the OS names it. Linux adds vendor, family, model and stepping: a virtual
 *  machine may name a whole product line ("AMD EPYC") whose generations differ in bf16 support. */
export function cpuModel(cpuinfo: string | null = readCpuinfo()): string {
  const name = cpus()[0]?.model?.trim() || 'unknown CPU';
  if (!cpuinfo) return name;
  const field = (k: string) => new RegExp(`^${k}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1]?.trim();
  const ids = [field('vendor_id'), field('cpu family') && `family ${field('cpu family')}`, field('model') && `model ${field('model')}`,
    field('stepping') && `stepping ${field('stepping')}`].filter(Boolean);
  return ids.length ? `${field('model name') ?? name} (${ids.join(' ')})` : name;
}

/** Up to `max` bytes from the start of `path`, or null when it cannot be read. */
function readHead(path: string, max: number): Buffer | null {
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(max);
      return buf.subarray(0, readSync(fd, buf, 0, max, 0));
    } finally {
      closeSync(fd);
    }
  } catch {
    return null;
  }
}

/** The first processor's block of /proc/cpuinfo (the whole file runs to megabytes on a large machine). */
function readCpuinfo(): string | null {
  return readHead('/proc/cpuinfo', 16384)?.toString('utf8').split('\n\n')[0] ?? null;
}

/** The key of this process's configuration. */
export function currentKey(): Bf16SpeedKey {
  const cpu = backends().find((b) => b.device === 'cpu')!;
  const hash = String(cpu.details.onednnHash ?? '');
  return {
    cpu: cpuModel(),
    onednn: String(cpu.details.onednn) + (hash && hash !== 'N/A' ? ` (${hash})` : ''),
    isa: String(cpu.details.isa),
    threads: native.getThreads(),
    convolution: String(cpu.details.convolution),
    addon: native.version,
  };
}

const sameKey = (a: Bf16SpeedKey, b: Bf16SpeedKey) =>
  a.cpu === b.cpu && a.onednn === b.onednn && a.isa === b.isa && a.threads === b.threads && a.convolution === b.convolution && a.addon === b.addon;

const positive = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

function isEntry(e: unknown): e is Entry {
  const x = e as Entry;
  if (!x || typeof x !== 'object' || !x.key || !x.speed || typeof x.key !== 'object' || typeof x.speed !== 'object') return false;
  const k = x.key;
  const s = x.speed;
  return typeof k.cpu === 'string' && typeof k.onednn === 'string' && typeof k.isa === 'string' && Number.isInteger(k.threads) &&
    typeof k.convolution === 'string' && typeof k.addon === 'string' &&
    positive(s.speedup) && positive(s.fp32Ms) && positive(s.bf16Ms) && typeof s.workload === 'string' &&
    typeof s.measuredAt === 'string' && !Number.isNaN(Date.parse(s.measuredAt)) && positive(s.tookMs) &&
    (s.contention === null || (typeof s.contention === 'number' && s.contention >= 0 && s.contention <= 1));
}

/** The valid entries of the cache file; none when it is missing, too large, not JSON or not ours. */
function readEntries(file: string): Entry[] {
  const head = readHead(file, MAX_FILE_BYTES + 1);
  if (!head || head.length > MAX_FILE_BYTES) return [];
  const text = head.toString('utf8');
  try {
    const parsed = JSON.parse(text) as { version?: unknown; entries?: unknown };
    if (parsed?.version !== FILE_VERSION || !Array.isArray(parsed.entries)) return [];
    return parsed.entries.filter(isEntry);
  } catch {
    return [];
  }
}

/** The speed measured under `key`, or null when the file has none (or is unreadable). */
export function readCachedSpeed(file: string, key: Bf16SpeedKey): Bf16Speed | null {
  return readEntries(file).find((e) => sameKey(e.key, key))?.speed ?? null;
}

/** Stores `speed` under `key` (replacing that key's entry; keeping the newest MAX_ENTRIES), atomically.
 *  Returns null, or why it could not (a read-only home, a full disk): the caller measures again next time. */
export function writeCachedSpeed(file: string, key: Bf16SpeedKey, speed: Bf16Speed): string | null {
  const entries = readEntries(file).filter((e) => !sameKey(e.key, key));
  entries.push({ key, speed });
  entries.sort((a, b) => Date.parse(b.speed.measuredAt) - Date.parse(a.speed.measuredAt));
  const body = JSON.stringify({ version: FILE_VERSION, entries: entries.slice(0, MAX_ENTRIES) }, null, 1) + '\n';
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileAtomic(file, (fd) => writeFileSync(fd, body));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
