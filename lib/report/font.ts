// Text in PNG pictures: pureimage draws with a TrueType font; we use the system's DejaVu Sans (Debian's
// fonts-dejavu-core) or whatever VGG_CIFAR_FONT names. Without one the pictures are drawn unlabelled.
import { existsSync } from 'node:fs';
import * as PImage from 'pureimage';

export const FONT_FAMILY = 'vgg-cifar-sans';
const CANDIDATES = [
  '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/TTF/DejaVuSans.ttf',
  '/usr/share/fonts/dejavu/DejaVuSans.ttf',
  '/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf',
  '/usr/share/fonts/liberation-sans/LiberationSans-Regular.ttf',
  '/Library/Fonts/Arial.ttf',
  '/System/Library/Fonts/Supplemental/Arial.ttf',
  'C:\\Windows\\Fonts\\arial.ttf',
];

let loaded: string | null | undefined;

/** The font file the pictures would use: VGG_CIFAR_FONT, else the first of the usual places that exists,
 *  else null. Throws when VGG_CIFAR_FONT names a missing file. */
export function findFont(env: NodeJS.ProcessEnv = process.env): string | null {
  const named = env.VGG_CIFAR_FONT;
  if (named && !existsSync(named)) throw new Error(`VGG_CIFAR_FONT names ${named}, which does not exist`);
  return named || CANDIDATES.find((p) => existsSync(p)) || null;
}

/** Registers the font once; returns its path, or null when no font file was found. */
export function loadFont(): string | null {
  if (loaded !== undefined) return loaded;
  const path = findFont();
  if (path) PImage.registerFont(path, FONT_FAMILY).loadSync();
  loaded = path;
  return path;
}
