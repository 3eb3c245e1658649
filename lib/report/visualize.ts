// visualize(): a checkpoint's feature maps for one image (a file, or a CIFAR-10 test image), as data
// and as one PNG.
import { writeFileSync } from 'node:fs';
import type { BackendChoice } from '../backend.js';
import { readCifar10 } from '../data/load.js';
import { readImageFile, type ImageLoadOptions } from './images.js';
import { loadModel, type LoadModelOptions } from './model.js';
import { featureMaps, type FeatureMaps } from './features.js';
import { renderFeatureMaps, type MapsPicture } from './render-maps.js';

export interface VisualizeOptions extends LoadModelOptions, ImageLoadOptions {
  checkpoint: string;
  /** A PNG or JPEG file (any size up to `maxPixels`; resized to 32x32)… */
  image?: string;
  /** …or the index of a CIFAR-10 test image in `data`. */
  testIndex?: number;
  data?: string;
  /** Write the PNG here. */
  out?: string;
  channels?: number;
  seed?: number;
  backend?: BackendChoice;
}

export interface Visualization {
  maps: FeatureMaps;
  picture: MapsPicture;
  /** What was drawn: the file or 'test image N (class)'. */
  source: string;
}

/** The pixels (planar RGB [3,32,32]) and label of test image `index`. */
export async function testImage(data: string, index: number): Promise<{ pixels: Uint8Array; label: number; classes: string[] }> {
  const d = await readCifar10(data, { splits: ['test'] });
  const test = d.test!;
  if (!Number.isInteger(index) || index < 0 || index >= test.count) {
    throw new RangeError(`test index must be an integer in [0, ${test.count}), got ${index}`);
  }
  return { pixels: test.images.slice(index * 3072, (index + 1) * 3072), label: test.labels[index], classes: d.classes };
}

export async function visualize(o: VisualizeOptions): Promise<Visualization> {
  if ((o.image === undefined) === (o.testIndex === undefined)) throw new RangeError('visualize: give either image or testIndex');
  let pixels: Uint8Array;
  let source: string;
  if (o.image !== undefined) {
    pixels = readImageFile(o.image, { maxPixels: o.maxPixels }).pixels;
    source = o.image;
  } else {
    if (!o.data) throw new RangeError('visualize: testIndex needs data (the CIFAR-10 folder)');
    const t = await testImage(o.data, o.testIndex!);
    pixels = t.pixels;
    source = `test image ${o.testIndex} (${t.classes[t.label]})`;
  }
  const m = loadModel(o.checkpoint, o);
  let maps: FeatureMaps;
  try {
    maps = featureMaps(m, pixels, { channels: o.channels, seed: o.seed });
  } finally {
    m.dispose();
  }
  const epoch = m.epoch !== null ? `, epoch ${m.epoch}` : '';
  const picture = renderFeatureMaps(maps, `${source}${epoch}`);
  if (o.out) writeFileSync(o.out, picture.png);
  return { maps, picture, source };
}
