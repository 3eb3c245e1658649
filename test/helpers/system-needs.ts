// What the test suite needs from the machine beyond Node and the build, the Debian package that brings
// each, and the test files that use it. The global setup checks them before any test runs (a missing
// one fails the run at once, naming the command that installs it), and test/scripts/setup.test.ts
// checks that scripts/setup.sh installs every one.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { findFont } from '../../lib/report/font.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The command that installs the Debian packages (the README's set-up without its npm step). */
export const INSTALL_COMMAND = 'bash scripts/setup.sh --no-npm';

export interface SystemNeed {
  what: string;
  /** The Debian package that provides it. */
  debian: string;
  /** Test files that need it (paths from the repository root). */
  tests: string[];
  /** Why it is missing here, or null when present. */
  missing(): string | null;
}

export const SYSTEM_NEEDS: SystemNeed[] = [
  {
    what: 'Chromium, to open report.html headless',
    debian: 'chromium',
    tests: ['test/report/run.test.ts'],
    missing: () => (existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (CHROMIUM_PATH names another)`),
  },
  {
    what: "util-linux's script, the pseudo-terminal the CLI's progress bar is tested in",
    debian: 'bsdutils',
    tests: ['test/cli/train-terminal.test.ts'],
    missing: () => (['/usr/bin/script', '/bin/script'].some((p) => existsSync(p)) ? null : 'no `script` (util-linux) on this machine'),
  },
  {
    what: "ONNX's checker (onnx.checker.check_model), for exported models",
    debian: 'python3-onnx',
    tests: ['test/export/onnx.test.ts'],
    missing: () => (spawnSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' }).status === 0 ? null : 'no python3 with the onnx module'),
  },
  {
    what: 'a TrueType font, for the labels of the pictures',
    debian: 'fonts-dejavu-core',
    tests: ['test/report/features.test.ts'],
    missing: () => (findFont() ? null : 'no TrueType font (DejaVu Sans or Liberation Sans; VGG_CIFAR_FONT names another)'),
  },
];

/** The needs of the given test files that this machine lacks, as one message, or null. */
export function missingNeeds(testFiles: readonly string[], needs: readonly SystemNeed[] = SYSTEM_NEEDS): string | null {
  const lacking = needs
    .filter((n) => n.tests.some((t) => testFiles.some((f) => f.endsWith(t))))
    .map((n) => ({ n, why: n.missing() }))
    .filter((x) => x.why !== null);
  if (!lacking.length) return null;
  return 'the tests need what this machine lacks:\n' +
    lacking.map(({ n, why }) => `  ${n.what} (${n.tests.join(', ')}): ${why}`).join('\n') +
    `\nRun \`${INSTALL_COMMAND}\` (it installs ${lacking.map(({ n }) => n.debian).join(' and ')} with the rest; on other distributions ` +
    'install their equivalents).';
}
