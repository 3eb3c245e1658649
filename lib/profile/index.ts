// The profiler (see profiler.ts): per layer and op timings of a window of training steps.
export { Profiler } from './profiler.js';
export { formatProfile } from './table.js';
export type { ProfileReport, ProfileRow } from './report.js';
export { PROFILED_OPS, UNPROFILED, type OpInfo } from './ops.js';
