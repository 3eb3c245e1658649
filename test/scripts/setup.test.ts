// scripts/setup.sh, the README's set-up command: its package list covers what the build and the test
// suite need; it installs only what is missing, with apt-get update first, non-interactive, through sudo
// only when not root; it refuses clearly where it cannot work (no sudo, no apt-get, an old Node); and
// .ci/run runs exactly the README's two commands. apt-get, dpkg-query, sudo, id and npm are stand-ins
// on PATH that log their calls, so nothing is installed here.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../lib/backend.js';
import { tempDir } from '../data/fixtures.js';
import { INSTALL_COMMAND, missingNeeds, SYSTEM_NEEDS, type SystemNeed } from '../helpers/system-needs.js';

const root = packageRoot();
const SCRIPT = join(root, 'scripts', 'setup.sh');
const BUILD = ['cmake', 'make', 'g++', 'libdnnl-dev', 'ocl-icd-opencl-dev'];
const listed = () => spawnSync('bash', [SCRIPT, '--list'], { encoding: 'utf8' }).stdout.trim().split('\n');

interface Machine {
  installed?: string[];
  uid?: number;
  sudo?: boolean;
  apt?: boolean;
  node?: string;
  aptFails?: boolean;
}

/** Runs the script on a pretend machine: PATH holds only the stand-ins and the few tools it uses. */
function setupOn(m: Machine, args: string[] = []) {
  const dir = tempDir('setup');
  const bin = join(dir, 'bin');
  const log = join(dir, 'calls.log');
  mkdirSync(bin);
  writeFileSync(log, '');
  for (const tool of ['dirname', 'grep', 'sort', 'head', 'env', 'sed']) {
    const path = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(path, join(bin, tool));
  }
  const stub = (name: string, body: string) => {
    writeFileSync(join(bin, name), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name), 0o755);
  };
  const installed = new Set(m.installed ?? []);
  if (m.apt !== false) {
    stub('dpkg-query', `case "$3" in ${[...installed].join('|') || '__none__'}) echo -n 'install ok installed';; *) exit 1;; esac`);
    stub('apt-get', `echo "apt-get $* [DEBIAN_FRONTEND=$DEBIAN_FRONTEND]" >> ${log}${m.aptFails ? '; exit 100' : ''}`);
  }
  if (m.sudo) stub('sudo', `echo sudo >> ${log}; exec "$@"`);
  stub('id', `[ "$1" = -u ] && echo ${m.uid ?? 0}`);
  stub('npm', `echo "npm $*" >> ${log}`);
  if (m.node) stub('node', `echo v${m.node}`);
  else symlinkSync(process.execPath, join(bin, 'node'));
  const r = spawnSync('/bin/bash', [SCRIPT, ...args], { encoding: 'utf8', env: { PATH: bin, HOME: dir } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, calls: readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) };
}

const NPM = 'npm ci --no-audit --no-fund';
const apt = (...a: string[]) => `apt-get ${a.join(' ')} [DEBIAN_FRONTEND=noninteractive]`;

describe('scripts/setup.sh', () => {
  it('lists the build packages and every Debian package the test suite needs', () => {
    const packages = listed();
    expect(packages).toEqual(expect.arrayContaining(BUILD));
    for (const need of SYSTEM_NEEDS) expect(packages, `${need.what} (${need.tests.join(', ')})`).toContain(need.debian);
    // nothing else: a package no one needs would only slow a fresh machine down
    expect([...packages].sort()).toEqual([...new Set([...BUILD, ...SYSTEM_NEEDS.map((n) => n.debian)])].sort());
  });

  it('as root on a fresh machine: apt-get update, then installs everything non-interactively, then npm ci', () => {
    const r = setupOn({ uid: 0 });
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls).toEqual([apt('update', '-qq'), apt('install', '-y', '-qq', '--no-install-recommends', ...listed()), NPM]);
  });

  it('installs only what is missing, through sudo when not root', () => {
    const r = setupOn({ uid: 1000, sudo: true, installed: [...BUILD, 'bsdutils', 'python3-onnx'] });
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls).toEqual(['sudo', apt('update', '-qq'), 'sudo', apt('install', '-y', '-qq', '--no-install-recommends', 'chromium', 'fonts-dejavu-core'), NPM]);
    expect(r.stdout).toContain('setup: installing chromium fonts-dejavu-core');
  });

  it('with everything installed: no apt-get at all (no root needed), just npm ci', () => {
    const r = setupOn({ uid: 1000, installed: listed() });
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls).toEqual([NPM]);
  });

  it('--no-npm installs the packages only; --dry-run prints the commands and runs none', () => {
    expect(setupOn({ uid: 0, installed: [...BUILD, 'bsdutils', 'python3-onnx'] }, ['--no-npm']).calls).toEqual([apt('update', '-qq'),
      apt('install', '-y', '-qq', '--no-install-recommends', 'chromium', 'fonts-dejavu-core')]);
    const dry = setupOn({ uid: 1000, sudo: true, installed: [...BUILD, 'bsdutils', 'python3-onnx'] }, ['--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.calls).toEqual([]);
    expect(dry.stdout).toContain('+ sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq');
    expect(dry.stdout).toContain('+ sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core');
    expect(dry.stdout).toContain(`+ ${NPM}`);
  });

  it('refuses clearly, running nothing, without root or sudo, without apt-get, with an old Node, on an unknown option', () => {
    const noSudo = setupOn({ uid: 1000, installed: [...BUILD, 'bsdutils', 'python3-onnx'] });
    expect(noSudo.code).toBe(1);
    expect(noSudo.stderr).toContain('installing chromium fonts-dejavu-core needs root: run this as root, or install sudo');
    const noApt = setupOn({ apt: false });
    expect(noApt.code).toBe(1);
    expect(noApt.stderr).toMatch(/no apt-get here: this script installs Debian packages\. Install the equivalents of cmake make g\+\+ .*fonts-dejavu-core/);
    const oldNode = setupOn({ node: '18.19.0' });
    expect(oldNode.code).toBe(1);
    expect(oldNode.stderr).toContain('vgg-cifar needs Node.js 20.17 or later (found 18.19.0;');
    const bad = setupOn({}, ['--frobnicate']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown option --frobnicate');
    for (const r of [noSudo, noApt, oldNode, bad]) expect(r.calls).toEqual([]);
    // Node 20.17 itself and later majors pass the check
    for (const v of ['20.17.0', '22.1.0']) expect(setupOn({ node: v, installed: listed() }).calls).toEqual([NPM]);
  });

  it('stops when apt-get fails, before npm', () => {
    const r = setupOn({ uid: 0, aptFails: true });
    expect(r.code).toBe(100);
    expect(r.calls).toEqual([apt('update', '-qq')]);
  });
});

describe('the README and CI', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Two commands'), readme.indexOf('\n## ', readme.indexOf('## Two commands') + 1));
  const commands = [...section.matchAll(/```sh\n([^\n]+)\n```/g)].map((m) => m[1]);

  it("the README's two commands: the set-up script then training; the tests", () => {
    expect(commands).toEqual(['bash scripts/setup.sh && npx vgg-cifar train --data data --download', 'npm test']);
    expect(readme).not.toMatch(/apt-get install/);  // the package list lives in the script alone
  });

  it(".ci/run runs the README's set-up command and its test command, nothing else", () => {
    const lines = readFileSync(join(root, '.ci', 'run'), 'utf8').split('\n').map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#') && l !== 'set -euo pipefail' && l !== 'cd "$(dirname "$0")/.."');
    expect(lines).toEqual([commands[0].split(' && ')[0], commands[1]]);
  });
});

describe("the suite's own check of the machine (global setup)", () => {
  const need = (debian: string, missing: string | null, tests = ['test/x/a.test.ts']): SystemNeed =>
    ({ what: `the ${debian} thing`, debian, tests, missing: () => missing });

  it('names what is missing, for which test, and the one command that installs it', () => {
    const msg = missingNeeds(['/repo/test/x/a.test.ts'], [need('chromium', 'no Chromium at /usr/bin/chromium'), need('fonts-dejavu-core', null)])!;
    expect(msg).toContain('the chromium thing (test/x/a.test.ts): no Chromium at /usr/bin/chromium');
    expect(msg).not.toContain('fonts-dejavu-core thing');
    expect(msg).toContain(`Run \`${INSTALL_COMMAND}\` (it installs chromium with the rest`);
  });

  it('asks only for what the selected test files need', () => {
    expect(missingNeeds(['/repo/test/cuda/ops.test.ts'], [need('chromium', 'absent')])).toBeNull();
    expect(missingNeeds([], [need('chromium', 'absent')])).toBeNull();
  });

  it('finds everything the suite needs on this machine (set up by scripts/setup.sh)', () => {
    expect(missingNeeds(SYSTEM_NEEDS.flatMap((n) => n.tests))).toBeNull();
    for (const n of SYSTEM_NEEDS) for (const t of n.tests) expect(existsSync(join(root, t)), t).toBe(true);
  });
});
