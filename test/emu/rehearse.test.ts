// The rehearsal of the prepared GPU commands' tools on the CUDA emulator (native/emu/rehearse.sh): every tool
// the GPU check, the recipe sweep and the proxy ranking run on a GPU runs to its end here, on small data, so
// that a lent GPU's minutes are not lost to a crash in a tool's CUDA-only paths.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { packageRoot } from '../../lib/backend.js';
import { emulated } from '../cuda/parity.js';
import { tempDir } from '../data/fixtures.js';
import { writeLearnableDataset } from '../train/fixtures.js';

if (!emulated) console.log('rehearsal of the GPU tools skipped: it runs on the CUDA emulator (npm run test:emu)');

it.skipIf(!emulated)('every tool of the prepared GPU commands runs to its end on the emulator', () => {
  const data = writeLearnableDataset(tempDir('rehearse-data'), 120);  // 600 training and 120 test images
  const out = tempDir('rehearse');
  const r = spawnSync('bash', [join(packageRoot(), 'native/emu/rehearse.sh'), out, data], { encoding: 'utf8', timeout: 1_200_000 });
  console.log(r.stdout);
  expect(r.stdout).not.toMatch(/FAILED|skipped/);
  expect(r.stdout.match(/^ok /gm)).toHaveLength(10);
  expect(r.status).toBe(0);
}, 1_200_000);
