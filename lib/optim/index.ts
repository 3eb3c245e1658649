export { Optimizer, paramGroups, type BaseOptions, type GroupSpec, type OptimizerStateDict, type ParamGroup, type ParamState } from './optimizer.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { SGD, type SgdOptions } from './sgd.js';
export { Adagrad, type AdagradOptions } from './adagrad.js';
export { scheduleLr, validateSchedule, type Schedule } from './schedules.js';
export { createOptimizer, type OptimizerKind, type OptimizerSpec } from './create.js';
