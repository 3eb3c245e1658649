// The profiler's layer names: the module's state-dict name and what it is, e.g. `net.0 Conv2d(3,64)`.
import type { Module } from '../nn/module.js';
import { Conv2d } from '../nn/conv.js';
import { Linear } from '../nn/linear.js';
import { BatchNorm2d } from '../nn/batchnorm.js';
import { MaxPool2d } from '../nn/pool.js';
import { Dropout } from '../nn/activation.js';

export function describeModule(m: Module): string {
  if (m instanceof Conv2d) return `Conv2d(${m.inChannels},${m.outChannels})`;
  if (m instanceof Linear) return `Linear(${m.inFeatures},${m.outFeatures})`;
  if (m instanceof BatchNorm2d) return `BatchNorm2d(${m.numFeatures})`;
  if (m instanceof MaxPool2d) return `MaxPool2d(${m.kernelSize})`;
  if (m instanceof Dropout) return `Dropout(${m.p})`;
  return m.typeName;
}

/** `name Type(args)`; the root module (name '') is its type alone. */
export function layerName(name: string, m: Module): string {
  return name ? `${name} ${describeModule(m)}` : describeModule(m);
}
