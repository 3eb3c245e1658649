// run.lock on its own: who holds it, when a lock is stale (its process gone, the machine restarted, the
// pid reused), a lock of another host, and a run that lost its lock.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { acquireLock, LOCK_FILE, lockState, releaseLockOf } from '../../lib/train/lock.js';
import { RunFolderError } from '../../lib/train/run-folder-error.js';
import { tempDir } from '../data/fixtures.js';
import { deadPid, plantLock } from './fixtures.js';

const linux = existsSync('/proc/self/stat') && existsSync('/proc/sys/kernel/random/boot_id');

const refusal = (f: () => unknown): RunFolderError => {
  try {
    f();
  } catch (e) {
    return e as RunFolderError;
  }
  throw new Error('not refused');
};

describe('run.lock', () => {
  it('names its process; a second run is refused while it is held, and may go once it is released', () => {
    const dir = tempDir('lock');
    const { lock, notice } = acquireLock(dir, 'run-a');
    expect(notice).toBeNull();
    const held = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    expect(held).toMatchObject({ pid: process.pid, host: hostname(), runId: 'run-a' });
    expect(Math.abs(Date.parse(held.startedAt) - Date.now())).toBeLessThan(60_000);
    expect(held.command).toContain('node');
    const e = refusal(() => acquireLock(dir, 'run-b'));
    expect(e).toBeInstanceOf(RunFolderError);
    expect(e.code).toBe('run-in-progress');
    expect(e.holder).toMatchObject({ pid: process.pid, runId: 'run-a' });
    expect(e.message).toMatch(new RegExp(`is in use by another training run: process ${process.pid} on ${hostname()} \\(run run-a`));
    expect(lockState(dir)).toMatchObject({ state: 'live', holder: { runId: 'run-a' } });
    lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    expect(lockState(dir)).toBeNull();
    acquireLock(dir, 'run-b').lock.release();
  });

  it('takes over a lock whose process no longer runs, with a one-line notice naming it', () => {
    const dir = tempDir('lock-dead');
    const pid = deadPid();
    plantLock(dir, { pid, runId: 'killed' });
    writeFileSync(join(dir, `.${LOCK_FILE}.${pid}.0123abcd-tmp.tmp`), 'half a lock'); // killed while taking a lock
    expect(lockState(dir)?.state).toBe('gone');
    const { lock, notice } = acquireLock(dir, 'next');
    expect(notice).toMatch(new RegExp(`^taking over \\S+run\\.lock: it was left by a process that no longer runs, process ${pid} on ${hostname()} \\(run killed`));
    expect(notice).not.toContain('\n');
    expect(JSON.parse(readFileSync(lock.path, 'utf8')).runId).toBe('next');
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    lock.release();
  });

  it.skipIf(!linux)('a lock from before the machine restarted, or of a pid now another process\'s, is stale', () => {
    const dir = tempDir('lock-boot');
    plantLock(dir, { bootId: '00000000-0000-0000-0000-000000000000' }); // our own live pid, another boot
    const after = acquireLock(dir, 'after-reboot');
    expect(after.notice).toMatch(/it was left before the machine restarted/);
    after.lock.release();
    const dir2 = tempDir('lock-reuse');
    plantLock(dir2, { processStart: '1' }); // our pid, but a process started at another moment
    const { lock, notice } = acquireLock(dir2, 'reused');
    expect(notice).toMatch(/whose pid now belongs to another program/);
    lock.release();
  });

  it('refuses a lock of another host (its process cannot be checked) and says how to clear it', () => {
    const dir = tempDir('lock-host');
    const text = plantLock(dir, { host: 'elsewhere.example', pid: 4242 });
    const e = refusal(() => acquireLock(dir, 'mine'));
    expect(e.code).toBe('run-in-progress');
    expect(e.message).toMatch(/process 4242 on elsewhere\.example .* which cannot be checked from .*delete \S+run\.lock/);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(text);
    expect(lockState(dir)?.state).toBe('elsewhere');
  });

  it('takes over an unreadable lock file', () => {
    const dir = tempDir('lock-garbled');
    writeFileSync(join(dir, LOCK_FILE), 'not json');
    const { lock, notice } = acquireLock(dir, 'mine');
    expect(notice).toMatch(/it is unreadable/);
    lock.release();
  });

  it('a run whose lock was replaced stops before writing; releaseLockOf removes only the named run\'s lock', () => {
    const dir = tempDir('lock-lost');
    const { lock } = acquireLock(dir, 'mine');
    expect(() => lock.assertHeld(dir)).not.toThrow();
    const other = plantLock(dir, { runId: 'intruder', pid: 4243 });
    const e = refusal(() => lock.assertHeld(dir));
    expect(e.code).toBe('run-in-progress');
    expect(e.message).toMatch(/no longer names this run \(it now names process 4243 .*run intruder/);
    lock.release(); // not ours any more: left alone
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(other);
    releaseLockOf(join(dir, LOCK_FILE), process.pid, 'intruder');
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    releaseLockOf(join(dir, LOCK_FILE), 4243, 'intruder');
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});
