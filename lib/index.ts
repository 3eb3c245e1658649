// The package's API. The lead adds train()/evaluate() (lib/train/) here.
export { native, backends, resolveDevice, type BackendChoice, type Device, type DType, type Layout } from './backend.js';
export * from './tensor.js';
export * from './nn/index.js';
export * from './models/index.js';
export * from './optim/index.js';
