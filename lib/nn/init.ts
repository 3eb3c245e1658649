// Weight initialization from a seeded RNG (torch.nn.init's formulas): the same seed gives the same
// weights on every run and every backend (values are drawn on the host, then written).
import { native } from '../backend.js';
import type { Module } from './module.js';
import { Conv2d } from './conv.js';
import { Linear } from './linear.js';
import { BatchNorm2d } from './batchnorm.js';
import { Dropout } from './activation.js';
import { mixSeed, Rng } from './rng.js';

export type InitScheme = 'xavier_uniform' | 'xavier_normal' | 'kaiming_normal' | 'kaiming_uniform' | 'pytorch_default';

export interface InitOptions {
  /** 'xavier_uniform' is the report's; 'pytorch_default' is what nn.Conv2d/nn.Linear do on construction. */
  scheme?: InitScheme;
  /** Kaiming fan mode (torchvision's VGG uses fan_out for convs). */
  mode?: 'fan_in' | 'fan_out';
  /** Biases: PyTorch's default uniform(±1/sqrt(fan_in)) (default for xavier and pytorch_default, as in
   *  the report, which re-initialized only weights) or zeros (default for kaiming, as torchvision). */
  bias?: 'pytorch_default' | 'zeros';
  seed?: number;
  /** When set, Linear weights are drawn from N(0, linearStd) with zero biases, whatever the scheme
   *  (torchvision's VGG uses 0.01: small logits at the start, loss near ln C). */
  linearStd?: number;
}

/** Initializes every Conv2d/Linear weight and bias, resets BatchNorm (weight 1, bias 0, running mean 0,
 *  var 1) and seeds the Dropout layers, all from `seed`. */
export function initialize(model: Module, opts: InitOptions = {}): void {
  const scheme = opts.scheme ?? 'xavier_uniform';
  const valid: InitScheme[] = ['xavier_uniform', 'xavier_normal', 'kaiming_normal', 'kaiming_uniform', 'pytorch_default'];
  if (!valid.includes(scheme)) throw new RangeError(`initialize: scheme must be one of ${valid.join(', ')}, got '${String(scheme)}'`);
  const mode = opts.mode ?? 'fan_in';
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new RangeError(`initialize: mode must be 'fan_in' or 'fan_out', got '${String(mode)}'`);
  const biasInit = opts.bias ?? (scheme.startsWith('kaiming') ? 'zeros' : 'pytorch_default');
  const seed = opts.seed ?? 0;
  const rng = new Rng(seed);
  const relu = Math.SQRT2;
  let dropoutIndex = 0;
  for (const [, m] of model.namedModules()) {
    if (m instanceof Conv2d || m instanceof Linear) {
      const { fanIn, fanOut } = m.fans;
      const w = new Float32Array(m.weight.value.size);
      const fan = mode === 'fan_in' ? fanIn : fanOut;
      switch (scheme) {
        case 'xavier_uniform': fillUniform(w, rng, Math.sqrt(6 / (fanIn + fanOut))); break;
        case 'xavier_normal': fillNormal(w, rng, Math.sqrt(2 / (fanIn + fanOut))); break;
        case 'kaiming_normal': fillNormal(w, rng, relu / Math.sqrt(fan)); break;
        case 'kaiming_uniform': fillUniform(w, rng, Math.sqrt(3) * relu / Math.sqrt(fan)); break;
        // kaiming_uniform_(a=sqrt(5)): gain sqrt(2/(1+5)), bound gain*sqrt(3/fan_in) = 1/sqrt(fan_in)
        case 'pytorch_default': fillUniform(w, rng, 1 / Math.sqrt(fanIn)); break;
      }
      if (opts.linearStd !== undefined && m instanceof Linear) fillNormal(w, rng, opts.linearStd);
      native.write(m.weight.value, w);
      if (m.bias && opts.linearStd !== undefined && m instanceof Linear) native.fill(m.bias.value, 0);
      else if (m.bias) {
        const b = new Float32Array(m.bias.value.size);
        if (biasInit === 'pytorch_default') fillUniform(b, rng, 1 / Math.sqrt(fanIn));
        native.write(m.bias.value, b);
      }
    } else if (m instanceof BatchNorm2d) {
      native.fill(m.weight.value, 1);
      native.fill(m.bias.value, 0);
      native.fill(m.runningMean.value, 0);
      native.fill(m.runningVar.value, 1);
      m.numBatchesTracked = 0;
    } else if (m instanceof Dropout) {
      m.seed = mixSeed(seed, 0x5eed + dropoutIndex++);
      m.counter = 0;
    }
  }
}

function fillUniform(a: Float32Array, rng: Rng, bound: number): void {
  for (let i = 0; i < a.length; i++) a[i] = (2 * rng.uniform() - 1) * bound;
}

function fillNormal(a: Float32Array, rng: Rng, std: number): void {
  for (let i = 0; i < a.length; i++) a[i] = rng.normal() * std;
}
