// Image helpers shared by the tests of predict, feature maps and the exported web page.
import type { RgbaImage } from '../../lib/report/images.js';

/** Nearest-neighbour upscale by an integer factor: area averaging resizes it back to the same pixels. */
export function upscale(img: RgbaImage, f: number): RgbaImage {
  const w = img.width * f;
  const data = new Uint8Array(w * img.height * f * 4);
  for (let y = 0; y < img.height * f; y++) for (let x = 0; x < w; x++) {
    const s = 4 * (Math.floor(y / f) * img.width + Math.floor(x / f));
    data.set(img.data.subarray(s, s + 4), 4 * (y * w + x));
  }
  return { width: w, height: img.height * f, data };
}
