// The feature-map picture: the input, then one row per layer with the chosen channels' maps (each
// scaled to its own range, viridis colours, nearest-neighbour upscaled) labelled with the layer's name
// and shape, the classifier's hidden vectors as strips, and the class probabilities as a bar chart.
import * as PImage from 'pureimage';
import * as vega from 'vega';
import { encodePng } from './images.js';
import { FONT_FAMILY, loadFont } from './font.js';
import type { FeatureMaps, LayerMaps } from './features.js';

export interface Tile {
  layer: string;
  channel: number;
  x: number;
  y: number;
  size: number;
}

export interface MapsPicture {
  png: Buffer;
  width: number;
  height: number;
  /** Where each feature map was drawn (for tests and image maps). */
  tiles: Tile[];
  /** False when no font was found and the picture carries no text. */
  labelled: boolean;
}

const TILE = 64;
const GAP = 6;
const MARGIN = 12;
const TITLE = 18;
const CAPTION = 14;
const STRIP = 22;
const BAR = 16;
const INPUT = 128;
const BG = [255, 255, 255];

type Ctx = ReturnType<PImage.Bitmap['getContext']>;

const viridis = vega.scheme('viridis') as (t: number) => string;
const PALETTE: Array<[number, number, number]> = Array.from({ length: 256 }, (_, i) => {
  const m = /rgb\((\d+), (\d+), (\d+)\)/.exec(viridis(i / 255))!;
  return [Number(m[1]), Number(m[2]), Number(m[3])];
});

function rangeOf(a: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    lo = Math.min(lo, a[i]);
    hi = Math.max(hi, a[i]);
  }
  return [lo, hi];
}

const shapeText = (s: number[]) => `[${s.join(', ')}]`;

export function renderFeatureMaps(fm: FeatureMaps, title = 'feature maps'): MapsPicture {
  const labelled = loadFont() !== null;
  const cols = fm.channelsPerLayer;
  const width = Math.max(MARGIN * 2 + cols * (TILE + GAP) - GAP, 560);
  const inner = width - 2 * MARGIN;
  const rowHeight = (l: LayerMaps) => TITLE + (l.maps ? TILE + CAPTION : STRIP) + GAP;
  const classes = fm.classes.length;
  const height = MARGIN + TITLE + INPUT + CAPTION + GAP + fm.layers.reduce((a, l) => a + rowHeight(l), 0) + TITLE + classes * (BAR + 2) + MARGIN;
  const img = PImage.make(width, height);
  const ctx = img.getContext('2d');
  const px = img.data as unknown as Uint8Array;
  const put = (x: number, y: number, c: readonly number[]) => {
    const p = 4 * (y * width + x);
    px[p] = c[0];
    px[p + 1] = c[1];
    px[p + 2] = c[2];
    px[p + 3] = 255;
  };
  const rect = (x: number, y: number, w: number, h: number, c: readonly number[]) => {
    for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) put(x + i, y + j, c);
  };
  const text = (s: string, x: number, y: number, size = 12, colour = '#000000') => {
    if (!labelled) return;
    ctx.fillStyle = colour;
    ctx.font = `${size}px '${FONT_FAMILY}'`;
    ctx.fillText(s, x, y);
  };
  rect(0, 0, width, height, BG);

  let y = MARGIN;
  const best = fm.predicted;
  text(`${title}: predicted ${fm.classes[best]} (${(100 * fm.probabilities[best]).toFixed(1)}%)`, MARGIN, y + 13, 13);
  y += TITLE;
  // The input, 4x, nearest neighbour.
  const s = INPUT / 32;
  for (let j = 0; j < INPUT; j++) {
    for (let i = 0; i < INPUT; i++) {
      const q = Math.floor(j / s) * 32 + Math.floor(i / s);
      put(MARGIN + i, y + j, [fm.input[q], fm.input[1024 + q], fm.input[2048 + q]]);
    }
  }
  text(`input [1, 3, 32, 32]; channels shown per layer chosen at random (seed ${fm.seed}),`, MARGIN + INPUT + 12, y + 20, 11, '#333333');
  text('each map scaled to its own range: dark = low, yellow = high', MARGIN + INPUT + 12, y + 36, 11, '#333333');
  y += INPUT + CAPTION + GAP;

  const tiles: Tile[] = [];
  for (const l of fm.layers) {
    text(`${l.name}  ${l.label}  →  ${shapeText(l.shape)}`, MARGIN, y + 13, 12);
    y += TITLE;
    if (l.maps && l.channels) {
      const [h, w] = [l.shape[2], l.shape[3]];
      const layerRange = rangeOf(l.maps.flatMap((m) => Array.from(rangeOf(m))));
      l.maps.forEach((m, t) => {
        let [lo, hi] = rangeOf(m);
        // A constant map (a 1x1 map, or a dead channel) is coloured by its place in the layer's range.
        if (!(hi > lo)) [lo, hi] = layerRange[1] > layerRange[0] ? layerRange : [lo - 1, hi + 1];
        const x0 = MARGIN + t * (TILE + GAP);
        const sy = TILE / h;
        const sx = TILE / w;
        for (let j = 0; j < TILE; j++) {
          for (let i = 0; i < TILE; i++) {
            const v = m[Math.floor(j / sy) * w + Math.floor(i / sx)];
            put(x0 + i, y + j, PALETTE[Math.max(0, Math.min(255, Math.round((255 * (v - lo)) / (hi - lo))))]);
          }
        }
        tiles.push({ layer: l.name, channel: l.channels![t], x: x0, y, size: TILE });
        text(`ch ${l.channels![t]}`, x0, y + TILE + 11, 10, '#333333');
      });
      y += TILE + CAPTION + GAP;
    } else if (l.values) {
      const n = l.values.length;
      const cell = Math.max(1, Math.min(12, Math.floor(inner / n)));
      const [lo, hi] = rangeOf(l.values);
      for (let i = 0; i < n && (i + 1) * cell <= inner; i++) {
        const c = PALETTE[hi > lo ? Math.round((255 * (l.values[i] - lo)) / (hi - lo)) : 0];
        rect(MARGIN + i * cell, y, cell, STRIP - 6, c);
      }
      y += STRIP + GAP;
    }
  }

  text('class probabilities (softmax of the last layer)', MARGIN, y + 13, 12);
  y += TITLE;
  const nameWidth = 90;
  const barMax = inner - nameWidth - 60;
  fm.probabilities.forEach((p, c) => {
    text(fm.classes[c], MARGIN, y + 12, 11, c === best ? '#000000' : '#333333');
    rect(MARGIN + nameWidth, y + 1, Math.max(1, Math.round(p * barMax)), BAR - 2, c === best ? [214, 96, 77] : [67, 147, 195]);
    text(`${(100 * p).toFixed(1)}%`, MARGIN + nameWidth + Math.round(p * barMax) + 6, y + 12, 11);
    y += BAR + 2;
  });
  return { png: encodePng({ width, height, data: px }), width, height, tiles, labelled };
}
