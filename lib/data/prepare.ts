// The API behind `--data DIR [--download]`: use what is there, download the official archive first
// when asked and nothing usable is found.
import { downloadCifar10, type DownloadOptions } from './download.js';
import { Cifar10Error } from './errors.js';
import { readCifar10, type Cifar10Data, type ReadCifar10Options } from './load.js';
import { locateCifar10 } from './locate.js';

export interface PrepareCifar10Options extends ReadCifar10Options {
  /** Fetch the archive into the data folder when no data is found there. */
  download?: boolean;
  /** Passed to downloadCifar10 (dir is the data folder). */
  downloadOptions?: Omit<DownloadOptions, 'dir'>;
}

/** Reads CIFAR-10 from `dir`, downloading it there first when `download` is set and nothing is found. */
export async function prepareCifar10(dir: string, options: PrepareCifar10Options = {}): Promise<Cifar10Data> {
  if (options.download) {
    try {
      await locateCifar10(dir);
    } catch (e) {
      if (!(e instanceof Cifar10Error && e.code === 'missing')) throw e;
      await downloadCifar10({ ...options.downloadOptions, dir });
    }
  }
  return readCifar10(dir, options);
}
