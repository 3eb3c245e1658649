// --max-pixels, shared by the commands that read image files (predict, visualize).
import { InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MAX_PIXELS, pixelLimit } from '../report/images.js';

export function maxPixelsOption(): Option {
  return new Option('--max-pixels <n>', 'refuse images with more pixels than this, as their file header gives it, before decoding them ' +
    '(a guard against decompression bombs; Infinity: no limit)')
    .default(DEFAULT_MAX_PIXELS)
    .argParser((v) => {
      try {
        return pixelLimit(Number(v));
      } catch {
        throw new InvalidArgumentError(`a positive integer number of pixels (or Infinity), got '${v}'`);
      }
    });
}
