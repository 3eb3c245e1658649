// `--resume FILE`: the run continues with the options it was started with, except those given again.
import { checkpointHeader } from '../nn/checkpoint.js';
import type { RecipeName, TrainOptions } from './options.js';

type Input = Partial<TrainOptions> & { data: string; recipe?: RecipeName };

/** Options saved in the checkpoint, overridden by the ones the caller set (undefined = not set). */
export function withResumedOptions(input: Input): Input {
  if (!input.resume) return input;
  const saved = checkpointHeader(input.resume).extra.options as Partial<TrainOptions> | undefined;
  if (!saved) return input;
  const given = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
  // Where the run writes is not inherited: the checkpoint's own folder unless `out` is given again (the
  // saved one may be relative to another working folder); `overwrite` must be asked for each time.
  const { data: _d, resume: _r, out: _o, runsDir: _rd, overwrite: _w, ...keep } = saved;
  const merged: Input = { ...keep, ...given, data: input.data, resume: input.resume };
  delete merged.recipe; // the saved options are complete: no recipe defaults on top
  return merged;
}
