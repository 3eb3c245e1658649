// The pixel limit of predict() and visualize() (and their commands): decompression bombs made in the
// test refused from their header, fast and without memory; the biggest image the default allows
// classified, resized as its rows are decoded; the option and the flag moving the limit; jpeg-js's own
// limits behind it.
import { describe, expect, it, vi } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Inflate } from 'minizlib';
import { Command } from 'commander';
import jpeg from 'jpeg-js';
import { vgg } from '../../lib/models/vgg.js';
import { initialize } from '../../lib/nn/init.js';
import { saveCheckpoint } from '../../lib/nn/checkpoint.js';
import { predict } from '../../lib/report/predict.js';
import { visualize } from '../../lib/report/visualize.js';
import { DEFAULT_MAX_PIXELS, encodePng, ImageFileError, ImageTooLargeError, planarToRgba, readImageFile } from '../../lib/report/images.js';
import { registerPredict } from '../../lib/cli/predict.js';
import { registerVisualize } from '../../lib/cli/visualize.js';
import { tempDir } from '../data/fixtures.js';
import { jpegClaiming, pngBomb, pngFile, upscaledPng, zeroZlib } from './image-files.js';

const dir = tempDir('limits');
const model = vgg({ depth: 11, widthDivisor: 8 });
initialize(model, { scheme: 'kaiming_uniform', seed: 5 });
const checkpoint = join(dir, 'tiny.safetensors');
saveCheckpoint(checkpoint, { model });
const MiB = 2 ** 20;

const write = (name: string, bytes: Uint8Array) => {
  const f = join(dir, name);
  writeFileSync(f, bytes);
  return f;
};
const picture = Uint8Array.from({ length: 3072 }, (_, i) => (i * 37 + (i >> 5) * 11) & 255);

/** Runs a command; what it printed, or the error it ended with. */
async function cli(register: (p: Command) => void, args: string[]): Promise<string> {
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    register(program);
    await program.parseAsync(['node', 'vgg-cifar', ...args]);
    return out.mock.calls.map((c) => String(c[0])).join('');
  } finally {
    out.mockRestore();
  }
}

describe('the pixel limit of predict and visualize', () => {
  it('an image just under the default limit (8000x4992, 39.9 MP) is classified, resized exactly, holding far less than one decoded copy', () => {
    const f = write('just-under.png', upscaledPng(picture, 250, 156));
    expect(8000 * 4992).toBeLessThan(DEFAULT_MAX_PIXELS);
    const before = process.memoryUsage().rss;
    const img = readImageFile(f);
    const grew = process.memoryUsage().rss - before;
    expect([img.width, img.height]).toEqual([8000, 4992]);
    expect(Buffer.compare(img.pixels, picture)).toBe(0);
    // One RGB copy of it would be 114 MiB, an RGBA one 152 MiB (the old decoder held three of its sizes).
    expect(grew).toBeLessThan(80 * MiB);

    const small = write('picture.png', encodePng(planarToRgba(picture)));
    const [big, ref] = predict({ checkpoint, images: [f, small], backend: 'cpu' });
    expect([big.width, big.height]).toEqual([8000, 4992]);
    expect(big.top).toHaveLength(5);
    expect(big.top).toEqual(ref.top);
  });

  it('PNG bombs of 25,000² and 40,000² pixels and a JPEG claiming 65,535² are refused from their header, in well under a second, memory flat', async () => {
    const bombs: Array<[string, Buffer, number, string]> = [
      ['bomb-25k.png', pngBomb(25_000, 25_000), 25_000, '625,000,000'],
      ['bomb-40k.png', pngBomb(40_000, 40_000), 40_000, '1,600,000,000'],
      ['bomb.jpg', jpegClaiming(65_535, 65_535), 65_535, '4,294,836,225'],
    ];
    for (const [name, bytes, side, pixels] of bombs) {
      expect(bytes.length, name).toBeLessThan(2 * MiB);
      const f = write(name, bytes);
      const msg = new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the image is ${side}x${side} = ${pixels} pixels, more than the limit of 40,000,000 pixels allows; ` +
        'refused before decoding \\(a guard against decompression bombs\\)\\. If you trust this file, raise the limit: maxPixels in predict\\(\\)/visualize\\(\\), ' +
        '--max-pixels on the command line$');
      const before = process.memoryUsage().rss;
      const t0 = performance.now();
      expect(() => predict({ checkpoint, images: [f], backend: 'cpu' }), name).toThrow(msg);
      const ms = performance.now() - t0;
      await expect(visualize({ checkpoint, image: f, backend: 'cpu' }), name).rejects.toThrow(ImageTooLargeError);
      await expect(cli(registerPredict, ['predict', '--checkpoint', checkpoint, '--backend', 'cpu', f]), name).rejects.toThrow(msg);
      expect(ms, name).toBeLessThan(500);
      const e = (() => { try { readImageFile(f); } catch (err) { return err; } })();
      expect(e).toBeInstanceOf(ImageTooLargeError);
      expect([(e as ImageTooLargeError).size, (e as ImageTooLargeError).maxPixels]).toEqual([{ width: side, height: side }, DEFAULT_MAX_PIXELS]);
      expect(process.memoryUsage().rss - before, name).toBeLessThan(50 * MiB);
    }
  });

  it('the 25,000² bomb is a real one: its 0.6 MB of zlib data inflate to 625 MB', () => {
    const bomb = pngBomb(25_000, 25_000);
    const idat = bomb.subarray(8 + 25 + 8, bomb.length - 12 - 4);
    let n = 0;
    const inflate = new Inflate({}).on('data', (chunk: Buffer) => { n += chunk.length; });
    for (let at = 0; at < idat.length; at += 4096) inflate.write(idat.subarray(at, at + 4096));
    inflate.end();
    expect(n).toBe(25_000 * 25_001);
    expect(idat.length).toBeLessThan(n / 1000);
  });

  it('one pixel over the limit is refused; maxPixels and --max-pixels move the limit, for PNG and JPEG, predict and visualize', async () => {
    const over = write('just-over.png', pngBomb(8000, 5001));
    expect(() => predict({ checkpoint, images: [over], backend: 'cpu' })).toThrow(/just-over\.png: the image is 8000x5001 = 40,008,000 pixels, more than the limit of 40,000,000/);
    // The same header over 10 rows of data: past the raised limit, the decoder finds the data short.
    const short = write('short.png', pngFile({ width: 8000, height: 5001 }, zeroZlib(10 * 8001)));
    expect(() => readImageFile(short)).toThrow(ImageTooLargeError);
    expect(() => readImageFile(short, { maxPixels: 40_008_000 })).toThrow(/short\.png: not a readable PNG image \(the image data ends after 10 of the 5001 rows/);
    expect(() => readImageFile(short, { maxPixels: Infinity })).toThrow(/ends after 10 of the 5001 rows/);

    const rgba = planarToRgba(picture);
    const png = write('small.png', encodePng(rgba));
    const jpg = write('small.jpg', jpeg.encode({ width: 32, height: 32, data: Buffer.from(rgba.data) }, 95).data);
    for (const f of [png, jpg]) {
      const name = f.endsWith('jpg') ? 'small\\.jpg' : 'small\\.png';
      expect(() => predict({ checkpoint, images: [f], maxPixels: 1023, backend: 'cpu' })).toThrow(new RegExp(`${name}: the image is 32x32 = 1,024 pixels, more than the limit of 1,023`));
      expect(predict({ checkpoint, images: [f], maxPixels: 1024, backend: 'cpu' })[0].width).toBe(32);
      await expect(visualize({ checkpoint, image: f, maxPixels: 1023, backend: 'cpu' })).rejects.toThrow(/limit of 1,023 pixels/);

      const args = ['predict', '--checkpoint', checkpoint, '--backend', 'cpu', '--json', f];
      await expect(cli(registerPredict, [...args, '--max-pixels', '1023'])).rejects.toThrow(/limit of 1,023 pixels/);
      expect(JSON.parse(await cli(registerPredict, [...args, '--max-pixels', '1024']))[0].width).toBe(32);
      const vis = ['visualize', '--checkpoint', checkpoint, '--backend', 'cpu', '--image', f, '--out', join(dir, 'maps.png')];
      await expect(cli(registerVisualize, [...vis, '--max-pixels', '1023'])).rejects.toThrow(/limit of 1,023 pixels/);
    }
    // Drawing the maps takes a while: once, for the JPEG.
    expect(await cli(registerVisualize, ['visualize', '--checkpoint', checkpoint, '--backend', 'cpu', '--image', jpg, '--out', join(dir, 'maps.png'),
      '--max-pixels', '1024'])).toMatch(/small\.jpg: predicted/);
  });

  it('refuses a limit that is not a positive integer, in the API and on the command line', async () => {
    const f = write('ok.png', encodePng(planarToRgba(picture)));
    for (const bad of [0, -5, 1.5, NaN]) {
      expect(() => predict({ checkpoint, images: [f], maxPixels: bad, backend: 'cpu' })).toThrow(`maxPixels must be a positive integer (or Infinity for no limit), got ${bad}`);
    }
    for (const bad of ['0', 'lots', '-1', '2.5']) {
      await expect(cli(registerPredict, ['predict', '--checkpoint', checkpoint, '--max-pixels', bad, f])).rejects.toThrow(`a positive integer number of pixels (or Infinity), got '${bad}'`);
    }
  });

  it('jpeg-js gets its own limits: a frame header past the first scan, a frame whose layout costs more memory than its pixels say', () => {
    /** A baseline frame header: size, and each component's sampling factors (h << 4 | v). */
    const sofOf = (w: number, h: number, comps: number[]) => Buffer.from([0xff, 0xc0, (8 + 3 * comps.length) >> 8, (8 + 3 * comps.length) & 255, 8,
      h >> 8, h & 255, w >> 8, w & 255, comps.length, ...comps.flatMap((s, i) => [i + 1, s, 0])]);
    const small = jpeg.encode({ width: 16, height: 16, data: Buffer.alloc(16 * 16 * 4, 90) }, 90).data;
    // A second frame header claiming 20000x20000, after the first scan: past what the header check reads.
    const late = write('late-frame.jpg', Buffer.concat([small.subarray(0, small.length - 2), sofOf(20_000, 20_000, [0x11]), Buffer.from([0xff, 0xd9])]));
    expect(() => readImageFile(late)).toThrow(ImageTooLargeError);
    expect(() => readImageFile(late)).toThrow(/late-frame\.jpg: a frame header inside the JPEG data claims a larger image, more than the limit of 40,000,000 pixels allows/);
    // 4000x4000 (16 MP, under the limit) with 200 components: 12.8 GB of coefficient blocks in jpeg-js,
    // which it would allocate before finding it cannot make colours of them. Refused from the header.
    const many = write('many-components.jpg', Buffer.concat([Buffer.from([0xff, 0xd8]), sofOf(4000, 4000, Array(200).fill(0x11)), Buffer.from([0xff, 0xd9])]));
    const before = process.memoryUsage().rss;
    expect(() => readImageFile(many)).toThrow(/^\S*many-components\.jpg: not a readable JPEG image \(its frame has 200 colour components; 1, 3 or 4 can be read\)$/);
    expect(process.memoryUsage().rss - before).toBeLessThan(50 * MiB);
    // 65535x15 (983,025 pixels, under a limit of 1,000,000) whose four components are each sampled 1x15:
    // padded to whole 8x120 blocks, 126 MB of blocks, over the memory budget that comes with the limit.
    const tall = write('tall-blocks.jpg', Buffer.concat([Buffer.from([0xff, 0xd8]), sofOf(65535, 15, [0x1f, 0x1f, 0x1f, 0x1f]), Buffer.from([0xff, 0xd9])]));
    expect(() => readImageFile(tall, { maxPixels: 1_000_000 })).toThrow(/tall-blocks\.jpg: decoding this JPEG needs more than 90 MB, more than the limit of 1,000,000 pixels allows/);
    // Unreadable JPEGs keep their own messages.
    expect(() => readImageFile(write('cut.jpg', small.subarray(0, 200)))).toThrow(ImageFileError);
    expect(() => readImageFile(write('cut.jpg', small.subarray(0, 200)))).toThrow(/cut\.jpg: not a readable JPEG image/);
  });
});
