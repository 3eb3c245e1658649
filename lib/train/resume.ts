// `--resume FILE`: the run continues with the options it was started with, except those given again.
import { loadCheckpoint } from '../nn/checkpoint.js';
import type { RecipeName, TrainOptions } from './options.js';

type Input = Partial<TrainOptions> & { data: string; recipe?: RecipeName };

/** Options saved in the checkpoint, overridden by the ones the caller set (undefined = not set). */
export function withResumedOptions(input: Input): Input {
  if (!input.resume) return input;
  const saved = loadCheckpoint(input.resume).extra.options as Partial<TrainOptions> | undefined;
  if (!saved) return input;
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  const { data: _d, resume: _r, ...keep } = saved;
  const merged: Input = { ...keep, ...given, data: input.data, resume: input.resume };
  delete merged.recipe; // the saved options are complete: no recipe defaults on top
  return merged;
}
