import { expect, it } from 'vitest';
import { backends } from '../../lib/backend.js';

it('reports the cpu backend with its oneDNN version and ISA, and says why cuda is or is not usable', () => {
  const all = backends();
  const cpu = all.find((b) => b.device === 'cpu')!;
  expect(cpu.available).toBe(true);
  expect(cpu.details.onednn).toMatch(/^\d+\.\d+\.\d+$/);
  expect(String(cpu.details.isa)).toMatch(/avx|sse/);
  const cuda = all.find((b) => b.device === 'cuda')!;
  expect(cuda).toBeDefined();
  if (!cuda.available) {
    expect(cuda.reason).toBeTruthy();
    console.log(`cuda backend unavailable here: ${cuda.reason}`);
  }
});
