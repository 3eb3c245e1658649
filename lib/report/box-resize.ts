// Area-averaging resize (a box filter: each output pixel is the mean of the source area it covers,
// weighted by overlap), alpha composited over white, fed one source row at a time in any order, so
// that a decoder can hand rows over as it produces them and no decoded image is ever held whole.
// Memory is O(output), whatever the source size. Output: planar RGB uint8 [3, h, w], the layout of a
// CIFAR-10 record.

export class BoxResize {
  /** Source pixels per output pixel, across and down. */
  private readonly sx: number;
  private readonly sy: number;
  /** Weighted sums of composited R, G, B per output pixel, and the weight each received. */
  private readonly acc: Float64Array;
  private readonly area: Float64Array;
  private readonly rowAcc: Float64Array;
  private readonly rowArea: Float64Array;

  constructor(readonly srcWidth: number, readonly srcHeight: number, readonly width = 32, readonly height = 32) {
    this.sx = srcWidth / width;
    this.sy = srcHeight / height;
    this.acc = new Float64Array(3 * width * height);
    this.area = new Float64Array(width * height);
    this.rowAcc = new Float64Array(3 * width);
    this.rowArea = new Float64Array(width);
  }

  /** Adds `count` pixels of source row `y` lying at x = x0, x0 + dx, … (an interlaced pass holds
   *  every dx-th pixel). `px` holds them packed, `channels` bytes each: 4 = RGBA, 3 = RGB (opaque). */
  addRow(y: number, px: Uint8Array, channels: 3 | 4 = 4, x0 = 0, dx = 1, count = this.srcWidth): void {
    const racc = this.rowAcc.fill(0);
    const rarea = this.rowArea.fill(0);
    const xStop = Math.min(this.srcWidth, x0 + count * dx);
    // Output column o covers source [o*sx, (o+1)*sx): the pixels of this row in that span, weighted by
    // overlap (1 inside, a fraction at the two ends).
    for (let o = 0; o < this.width; o++) {
      const lo = o * this.sx;
      const hi = lo + this.sx;
      const end = Math.min(xStop, Math.ceil(hi));
      const floorLo = Math.floor(lo);
      const first = floorLo <= x0 ? x0 : x0 + Math.ceil((floorLo - x0) / dx) * dx;
      let r = 0;
      let g = 0;
      let b = 0;
      let area = 0;
      for (let x = first, p = ((first - x0) / dx) * channels; x < end; x += dx, p += channels) {
        const w = x < lo || x + 1 > hi ? Math.min(x + 1, hi) - Math.max(x, lo) : 1;
        const alpha = channels === 4 ? px[p + 3] : 255;
        if (alpha === 255) {
          r += w * px[p];
          g += w * px[p + 1];
          b += w * px[p + 2];
        } else {
          const a = alpha / 255;
          r += w * (px[p] * a + 255 * (1 - a));
          g += w * (px[p + 1] * a + 255 * (1 - a));
          b += w * (px[p + 2] * a + 255 * (1 - a));
        }
        area += w;
      }
      racc[3 * o] = r;
      racc[3 * o + 1] = g;
      racc[3 * o + 2] = b;
      rarea[o] = area;
    }
    // Row y covers [y, y+1): the output rows it overlaps are the one holding y and maybe the next.
    for (let oy = Math.max(0, Math.floor(y / this.sy) - 1); oy < this.height && oy * this.sy < y + 1; oy++) {
      const w = Math.min(y + 1, (oy + 1) * this.sy) - Math.max(y, oy * this.sy);
      if (w <= 0) continue;
      for (let o = 0; o < this.width; o++) {
        const i = oy * this.width + o;
        for (let c = 0; c < 3; c++) this.acc[3 * i + c] += w * racc[3 * o + c];
        this.area[i] += w * rarea[o];
      }
    }
  }

  /** The resized image, planar RGB [3, height, width]. */
  planar(): Uint8Array {
    const n = this.width * this.height;
    const out = new Uint8Array(3 * n);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < 3; c++) out[c * n + i] = Math.round(this.acc[3 * i + c] / this.area[i]);
    }
    return out;
  }
}
