// The VGG family's structure: parameter counts (computed here from the paper's channel tables and
// checked against torchvision's published totals), PyTorch state-dict names, and the study report's
// torchsummary table line by line.
import { afterAll, describe, expect, it } from 'vitest';
import { vgg, type VggDepth } from '../../lib/models/vgg.js';
import { stateDict } from '../../lib/nn/state.js';
import { fixed2, summary } from '../../lib/nn/summary.js';
import type { Module } from '../../lib/nn/module.js';

// Conv widths per depth, written out from the paper's table (A, B, D, E), pools omitted.
const WIDTHS: Record<VggDepth, number[]> = {
  11: [64, 128, 256, 256, 512, 512, 512, 512],
  13: [64, 64, 128, 128, 256, 256, 512, 512, 512, 512],
  16: [64, 64, 128, 128, 256, 256, 256, 512, 512, 512, 512, 512, 512],
  19: [64, 64, 128, 128, 256, 256, 256, 256, 512, 512, 512, 512, 512, 512, 512, 512],
};
// torchvision's total parameters of vgg11/13/16/19 minus their 25088-4096-4096-1000 classifier
// (123,642,856): the convolutional features alone.
const TORCHVISION_FEATURES: Record<VggDepth, number> = { 11: 9_220_480, 13: 9_404_992, 16: 14_714_688, 19: 20_024_384 };

function expectedCount(depth: VggDepth, bn: boolean, classifier: 'report' | 'standard' | 'linear', hw: [number, number], classes: number): number {
  let n = 0;
  let cin = 3;
  for (const w of WIDTHS[depth]) {
    n += w * cin * 9 + w + (bn ? 2 * w : 0);
    cin = w;
  }
  const f = 512 * (hw[0] / 32) * (hw[1] / 32);
  const lin = (a: number, b: number) => a * b + b;
  if (classifier === 'report') n += lin(f, 100) + lin(100, 100) + lin(100, classes);
  else if (classifier === 'standard') n += lin(f, 512) + lin(512, 512) + lin(512, classes);
  else n += lin(f, classes);
  return n;
}

const count = (m: Module) => m.parameters().reduce((s, p) => s + p.value.size, 0);
const models: Module[] = [];
afterAll(() => models.forEach((m) => m.dispose()));
const keep = <T extends Module>(m: T): T => (models.push(m), m);

describe('VGG parameter counts', () => {
  it('the independent count reproduces torchvision features and the report total', () => {
    for (const d of [11, 13, 16, 19] as VggDepth[]) {
      expect(expectedCount(d, false, 'linear', [32, 32], 10) - (512 * 10 + 10)).toBe(TORCHVISION_FEATURES[d]);
    }
    expect(expectedCount(16, false, 'report', [32, 32], 10)).toBe(14_777_098);
  });

  for (const depth of [11, 13, 16, 19] as VggDepth[]) {
    for (const bn of [false, true]) {
      it(`vgg${depth}${bn ? '_bn' : ''}: every classifier, CIFAR and 224x224 inputs`, () => {
        for (const classifier of ['report', 'standard', 'linear'] as const) {
          const m = keep(vgg({ depth, batchNorm: bn, classifier }));
          expect(count(m)).toBe(expectedCount(depth, bn, classifier, [32, 32], 10));
          m.dispose();
        }
        const big = keep(vgg({ depth, batchNorm: bn, classifier: 'linear', inputSize: [224, 224], numClasses: 100 }));
        expect(count(big)).toBe(expectedCount(depth, bn, 'linear', [224, 224], 100));
        expect(big.outputShape([2, 3, 224, 224])).toEqual([2, 100]);
        big.dispose();
      });
    }
  }

  it('the report model: 14,777,098 parameters, names net.0.weight … net.36.bias', () => {
    const m = keep(vgg());
    expect(count(m)).toBe(14_777_098);
    const names = m.parameters().map((p) => p.name);
    const convIdx = [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28];
    const linIdx = [32, 34, 36];
    expect(names).toEqual([...convIdx, ...linIdx].flatMap((i) => [`net.${i}.weight`, `net.${i}.bias`]));
    const sd = stateDict(m);
    expect([...sd.keys()]).toEqual(names);
    expect(sd.get('net.0.weight')!.shape).toEqual([64, 3, 3, 3]);
    expect(sd.get('net.32.weight')!.shape).toEqual([100, 512]);
    expect(sd.get('net.36.weight')!.shape).toEqual([10, 100]);
    // no bias or BN parameter decays; every conv/linear weight does
    expect(m.parameters().filter((p) => p.weightDecay).map((p) => p.name)).toEqual(names.filter((n) => n.endsWith('weight')));
  });

  it('BatchNorm variant names follow torchvision (conv, bn, relu) with buffers', () => {
    const m = keep(vgg({ depth: 11, batchNorm: true }));
    const keys = [...stateDict(m).keys()];
    expect(keys.slice(0, 7)).toEqual(['net.0.weight', 'net.0.bias', 'net.1.weight', 'net.1.bias', 'net.1.running_mean',
      'net.1.running_var', 'net.1.num_batches_tracked']);
    expect(stateDict(m).get('net.1.num_batches_tracked')).toMatchObject({ dtype: 'I64', shape: [] });
    expect(m.buffers().length).toBe(2 * 8);
  });

  it('rejects bad configurations with the field named', () => {
    expect(() => vgg({ depth: 12 as VggDepth })).toThrow(/depth must be 11, 13, 16 or 19/);
    expect(() => vgg({ inputSize: [30, 32] })).toThrow(/multiples of 32/);
    expect(() => vgg({ classifier: 'big' as 'report' })).toThrow(/classifier/);
    expect(() => vgg({ numClasses: 0 })).toThrow(/numClasses/);
  });
});

// The report's table as torchsummary prints it (the report's markdown lost the rulers' widths).
const REPORT_ROWS: Array<[string, string, string]> = [
  ['Conv2d-1', '[-1, 64, 32, 32]', '1,792'], ['ReLU-2', '[-1, 64, 32, 32]', '0'], ['Conv2d-3', '[-1, 64, 32, 32]', '36,928'],
  ['ReLU-4', '[-1, 64, 32, 32]', '0'], ['MaxPool2d-5', '[-1, 64, 16, 16]', '0'], ['Conv2d-6', '[-1, 128, 16, 16]', '73,856'],
  ['ReLU-7', '[-1, 128, 16, 16]', '0'], ['Conv2d-8', '[-1, 128, 16, 16]', '147,584'], ['ReLU-9', '[-1, 128, 16, 16]', '0'],
  ['MaxPool2d-10', '[-1, 128, 8, 8]', '0'], ['Conv2d-11', '[-1, 256, 8, 8]', '295,168'], ['ReLU-12', '[-1, 256, 8, 8]', '0'],
  ['Conv2d-13', '[-1, 256, 8, 8]', '590,080'], ['ReLU-14', '[-1, 256, 8, 8]', '0'], ['Conv2d-15', '[-1, 256, 8, 8]', '590,080'],
  ['ReLU-16', '[-1, 256, 8, 8]', '0'], ['MaxPool2d-17', '[-1, 256, 4, 4]', '0'], ['Conv2d-18', '[-1, 512, 4, 4]', '1,180,160'],
  ['ReLU-19', '[-1, 512, 4, 4]', '0'], ['Conv2d-20', '[-1, 512, 4, 4]', '2,359,808'], ['ReLU-21', '[-1, 512, 4, 4]', '0'],
  ['Conv2d-22', '[-1, 512, 4, 4]', '2,359,808'], ['ReLU-23', '[-1, 512, 4, 4]', '0'], ['MaxPool2d-24', '[-1, 512, 2, 2]', '0'],
  ['Conv2d-25', '[-1, 512, 2, 2]', '2,359,808'], ['ReLU-26', '[-1, 512, 2, 2]', '0'], ['Conv2d-27', '[-1, 512, 2, 2]', '2,359,808'],
  ['ReLU-28', '[-1, 512, 2, 2]', '0'], ['Conv2d-29', '[-1, 512, 2, 2]', '2,359,808'], ['ReLU-30', '[-1, 512, 2, 2]', '0'],
  ['MaxPool2d-31', '[-1, 512, 1, 1]', '0'], ['Flatten-32', '[-1, 512]', '0'], ['Linear-33', '[-1, 100]', '51,300'],
  ['ReLU-34', '[-1, 100]', '0'], ['Linear-35', '[-1, 100]', '10,100'], ['ReLU-36', '[-1, 100]', '0'],
  ['Linear-37', '[-1, 10]', '1,010'], ['ReLU-38', '[-1, 10]', '0'],
];
const REPORT_TAIL = [
  '================================================================',
  'Total params: 14,777,098',
  'Trainable params: 14,777,098',
  'Non-trainable params: 0',
  '----------------------------------------------------------------',
  'Input size (MB): 0.01',
  'Forward/backward pass size (MB): 4.46',
  'Params size (MB): 56.37',
  'Estimated Total Size (MB): 60.85',
  '----------------------------------------------------------------',
];

describe('summary (torchsummary format)', () => {
  it("reproduces the report's table line by line (with its ReLU on the logits)", () => {
    const m = keep(vgg({ reluOnLogits: true }));
    const s = summary(m, [3, 32, 32]);
    const lines = s.text.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      '----------------------------------------------------------------',
      '        Layer (type)               Output Shape         Param #',
      '================================================================',
    ]);
    expect(lines.length).toBe(3 + 38 + REPORT_TAIL.length);
    REPORT_ROWS.forEach(([layer, shape, params], i) => {
      expect(lines[3 + i]).toBe(`${layer.padStart(20)}  ${shape.padStart(25)} ${params.padStart(15)}`);
      // and the row matches the report's text once whitespace is squeezed
      expect(lines[3 + i].trim().split(/\s{2,}/)).toEqual([layer, shape, params]);
    });
    expect(lines.slice(3 + 38)).toEqual(REPORT_TAIL);
    expect(s.rows.length).toBe(38);
    expect(s.totalParams).toBe(14_777_098);
    // the sizes from their definitions: outputs of every row, x2 for gradients, 4 bytes each
    const outputs = (64 * 1024 * 4 + 64 * 256 + 128 * 256 * 4 + 128 * 64 + 256 * 64 * 6 + 256 * 16 + 512 * 16 * 6 + 512 * 4 + 512 * 4 * 6 + 512 + 512 + 100 * 4 + 10 * 2);
    expect(s.forwardBackwardSizeMB).toBeCloseTo((2 * outputs * 4) / 2 ** 20, 12);
  });

  it('our vgg16 has the same table without the last ReLU: 37 rows', () => {
    const s = summary(keep(vgg()), [3, 32, 32]);
    expect(s.rows.length).toBe(37);
    expect(s.rows[36]).toMatchObject({ layer: 'Linear-37', outputShape: [-1, 10], params: 1010, name: 'net.36' });
    expect(s.totalParams).toBe(14_777_098);
    expect(s.text).toContain('Forward/backward pass size (MB): 4.46');
  });

  it('counts BatchNorm affine parameters as torchsummary does (running stats excluded)', () => {
    const s = summary(keep(vgg({ batchNorm: true })), [3, 32, 32]);
    expect(s.rows[1]).toMatchObject({ layer: 'BatchNorm2d-2', params: 128, outputShape: [-1, 64, 32, 32] });
    expect(s.totalParams).toBe(14_777_098 + 2 * 4224);
    expect(s.rows.length).toBe(37 + 13);
  });

  it("formats like Python's %0.2f (ties to even)", () => {
    expect(fixed2(0.125)).toBe('0.12');
    expect(fixed2(0.375)).toBe('0.38');
    expect(fixed2(0.01171875)).toBe('0.01');
    expect(fixed2(60.8541)).toBe('60.85');
  });

  it('rejects a bad input size', () => {
    expect(() => summary(keep(vgg()), [3, 30, 32])).toThrow(/MaxPool2d|Linear/);
  });
});
