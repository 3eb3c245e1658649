// The training loop (runs inside the worker thread of train(), or directly): data on the device,
// model and optimizer built once, one synchronous step per batch, host reads only every `display`
// steps, evaluation on the TEST split after each epoch, atomic checkpoints, stall detection.
import { appendFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { randomUUID } from 'node:crypto';
import { backends, native, resolveDevice } from '../backend.js';
import { bf16Warning } from '../bf16-speed.js';
import { prepareCifar10 } from '../data/prepare.js';
import { splitToDevice, type DeviceSplit } from '../data/device.js';
import { mirroredSplit } from '../data/mirror.js';
import { BatchLoader } from '../data/batches.js';
import { vgg, type Vgg } from '../models/vgg.js';
import { initialize } from '../nn/init.js';
import { SoftmaxCrossEntropyLoss } from '../nn/loss.js';
import { checkpointHeader, loadCheckpoint, restoreCheckpoint, saveCheckpoint } from '../nn/checkpoint.js';
import { WeightAverage } from '../nn/ema.js';
import { loadStateDict, stateDict } from '../nn/state.js';
import { createOptimizer, type OptimizerSpec } from '../optim/create.js';
import { scheduleLr, type Schedule } from '../optim/schedules.js';
import type { Optimizer, BaseOptions } from '../optim/optimizer.js';
import { evaluateSplit, type EvalResult } from './evaluate.js';
import { StallDetector } from './stall.js';
import { NonFiniteGuard } from './guard.js';
import { reluZeroFractions } from './activity.js';
import { findNonFinite } from './nonfinite.js';
import { EvenlySpaced, MAX_WARNINGS } from './series.js';
import { ProfileWindow } from './profile-window.js';
import { StepGraphs } from '../step-graphs.js';
import type { TrainOptions } from './options.js';
import { claimRunFolder, type ClaimedFolder } from './run-folder.js';
import type { RunStatus } from './run-file.js';
import { TICK_MS, type CheckpointEvent, type EpochEvent, type ProgressEvent, type TrainHistory, type TrainHooks, type WarningEvent } from './events.js';

export function modelFromOptions(o: Pick<TrainOptions, 'model' | 'batchNorm' | 'classifier' | 'reluOnLogits'> & { widthDivisor?: number }, numClasses: number): Vgg {
  const depth = Number(o.model.slice(3)) as 11 | 13 | 16 | 19;
  return vgg({ depth, batchNorm: o.batchNorm, classifier: o.classifier, reluOnLogits: o.reluOnLogits, numClasses, widthDivisor: o.widthDivisor ?? 1 });
}

export function optimizerSpec(o: TrainOptions): OptimizerSpec {
  const spec: OptimizerSpec = { kind: o.optimizer, lr: o.lr, weightDecay: o.weightDecay };
  if (o.optimizer === 'sgd') Object.assign(spec, { momentum: o.momentum, nesterov: o.nesterov });
  return spec;
}

/** The learning-rate schedule over the whole run, per optimizer step. The warm-up is warmupEpochs when
 *  set, else warmupShare of the run; one-cycle without either rises over PyTorch's default 30%. */
export function scheduleFor(o: TrainOptions, stepsPerEpoch: number): Schedule {
  const total = Math.max(1, o.epochs * stepsPerEpoch);
  const share = o.warmupEpochs > 0 ? o.warmupEpochs / o.epochs : o.warmupShare;
  const warmupSteps = Math.min(total, Math.round(share * total));
  switch (o.schedule) {
    case 'constant':
      return warmupSteps > 0 ? { kind: 'warmup', warmupSteps, totalSteps: total, decay: 'constant' } : { kind: 'constant' };
    case 'cosine':
      return warmupSteps > 0 ? { kind: 'warmup', warmupSteps, totalSteps: total, decay: 'cosine' } : { kind: 'cosine', totalSteps: total };
    case 'linear':
      // rises linearly from 0, then falls linearly to 0 at the last step (Page's piecewise-linear cycle)
      return { kind: 'warmup', warmupSteps, totalSteps: total, decay: 'linear' };
    case 'onecycle':
      return { kind: 'onecycle', totalSteps: total, maxLr: o.lr, ...(share > 0 ? { pctStart: share } : {}) };
    case 'step':
      return { kind: 'step', stepSize: Math.max(1, Math.round(total / 3)) };
    case 'multistep':
      return { kind: 'multistep', milestones: [Math.round(total * 0.5), Math.round(total * 0.75)] };
  }
}

interface RunState { epoch: number; stepInEpoch: number; globalStep: number }

/** What a checkpoint's `extra.run` holds to resume mid-epoch. */
interface SavedRun { stepInEpoch?: number; epochLoss?: { sum: number; correct: number; samples: number; batches: number }; emaUpdates?: number }

const finite = (v: number) => Number.isFinite(v);

/** Trains in this thread (train() runs it in a worker). The run's folder is checked and locked first:
 *  a RunFolderError (with a code) refuses it before anything is written. */
export async function runTraining(o: TrainOptions, hooks: TrainHooks = {}): Promise<TrainHistory> {
  // A resumed run keeps its id (in the checkpoint's header; files from before run ids get a new one).
  const at = o.resume ? checkpointHeader(o.resume) : null;
  const runId = at?.runId ?? randomUUID();
  const folder = claimRunFolder(o, runId, at && o.resume ? { path: o.resume, runId: at.runId, step: at.step ?? 0 } : null);
  try {
    hooks.onStart?.({ out: folder.out, runId, lockFile: folder.lock.path, notices: folder.notices });
    return await trainInFolder(o, folder, runId, hooks);
  } finally {
    folder.finish();
  }
}

async function trainInFolder(o: TrainOptions, folder: ClaimedFolder, runId: string, hooks: TrainHooks): Promise<TrainHistory> {
  const t0 = performance.now();
  const out = folder.out;
  if (o.threads > 0) native.setThreads(o.threads);
  native.setTf32(o.tf32);
  const device = resolveDevice(o.backend);
  const desc = backends().find((b) => b.device === device)?.description ?? device;
  const log = (line: string) => hooks.onLog?.(line);

  const data = await prepareCifar10(o.data, {
    download: o.download,
    trainSubset: o.limit > 0 ? { first: o.limit } : undefined,
    testSubset: o.testLimit > 0 ? { first: o.testLimit } : undefined,
  });
  const trainHost = data.train!;
  const testHost = data.test!;
  const train: DeviceSplit = splitToDevice(trainHost, device);
  const test: DeviceSplit | null = o.evalEveryEpoch ? splitToDevice(testHost, device) : null;
  const testMirrored: DeviceSplit | null = test && o.tta === 'flip' ? splitToDevice(mirroredSplit(testHost), device) : null;
  const loader = new BatchLoader(train, { batchSize: o.batchSize, shuffle: true, seed: o.seed, normalize: o.normalize, augment: o.augment, padMode: o.padMode,
    plainFromEpoch: o.epochs - o.plainEpochs, cutout: o.cutout });
  const stepsPerEpoch = loader.batchesPerEpoch;

  const precisionWarning = o.precision === 'bf16' ? bf16Warning(device) : null;
  const model = modelFromOptions(o, data.classes.length).setPrecision(o.precision);
  // Kaiming schemes follow torchvision's VGG: fan_out for convolutions, N(0, 0.01) for the classifier.
  initialize(model, o.init.startsWith('kaiming') ? { scheme: o.init, mode: 'fan_out', linearStd: 0.01, seed: o.seed } : { scheme: o.init, seed: o.seed });
  model.build(device, [Math.min(o.batchSize, train.images.shape[0]), 3, 32, 32]);
  const optimizer: Optimizer<BaseOptions> = createOptimizer(model.parameters(), optimizerSpec(o));
  const schedule = scheduleFor(o, stepsPerEpoch);
  const loss = new SoftmaxCrossEntropyLoss({ labelSmoothing: o.labelSmoothing });
  const ema = o.emaDecay > 0 ? new WeightAverage(model, { decay: o.emaDecay, every: o.emaEvery }) : null;
  const epochLoss = { sum: 0, correct: 0, samples: 0, batches: 0 };

  const st: RunState = { epoch: 0, stepInEpoch: 0, globalStep: 0 };
  if (o.resume) {
    const ck = loadCheckpoint(o.resume);
    restoreCheckpoint(ck, model, optimizer);
    const run = (ck.extra.run ?? {}) as SavedRun;
    // A run that averaged its weights saved the average as the model and the trained weights beside it.
    if (ck.training) {
      ema?.resetTo(run.emaUpdates ?? 0);
      loadStateDict(model, ck.training, { source: ck.path });
    }
    st.epoch = ck.epoch ?? 0;
    st.globalStep = ck.step ?? 0;
    st.stepInEpoch = run.stepInEpoch ?? 0;
    if (run.epochLoss) Object.assign(epochLoss, run.epochLoss);
    log(`resumed from ${o.resume}: ${st.epoch} epochs and ${st.stepInEpoch} steps of epoch ${st.epoch + 1} done (step ${st.globalStep})`);
  }

  const history: TrainHistory = {
    info: { out, runId, device, deviceDescription: desc, parameters: model.parameters().reduce((a, p) => a + p.value.size, 0),
      trainImages: train.images.shape[0], testImages: test ? test.images.shape[0] : 0, startEpoch: st.epoch, startStep: st.globalStep },
    steps: [], epochs: [], checkpoints: [], warnings: [], aborted: false, stoppedOnNonFinite: false, seconds: 0,
  };
  // Bounded whatever the run's length (every reading still goes to the hooks and to --log).
  const steps = new EvenlySpaced(history.steps);
  hooks.onInfo?.(history.info);
  const metricsLog = o.log ? resolve(o.log) : null;
  const record = (kind: string, obj: object) => { if (metricsLog) appendFileSync(metricsLog, JSON.stringify({ kind, ...obj }) + '\n'); };
  const warn = (w: WarningEvent) => { if (history.warnings.length < MAX_WARNINGS) history.warnings.push(w); hooks.onWarning?.(w); record('warning', w); };
  if (precisionWarning) warn({ kind: 'other', message: precisionWarning });
  // The run so far, handed up after every epoch and at the end (train() writes run.json and report.html).
  const savedOptions = { ...o, out, overwrite: false };
  const startedAt = new Date().toISOString();
  let lastEval: (EvalResult & { epoch: number; averaged: boolean }) | null = null;
  const publish = async (status: RunStatus) => {
    if (!o.report || !hooks.onPublish) return;
    folder.lock.assertHeld(out);
    try {
      await hooks.onPublish({ out, runId, status, startedAt, seconds: (performance.now() - t0) / 1000, options: savedOptions, dataDir: data.dir,
        classes: data.classes, history, evaluation: lastEval && { ...lastEval, labels: testHost.labels } });
    } catch (e) {
      warn({ kind: 'other', message: `could not write the report in ${out}: ${(e as Error).message}` });
    }
  };
  const stall = new StallDetector({ numClasses: data.classes.length, patience: o.stallPatience, tolerance: 0.01 });

  const save = (reason: CheckpointEvent['reason']) => {
    const name = reason === 'scheduled' || reason === 'final' ? `cifar10_epoch_${st.epoch}.safetensors` : `cifar10_interrupted.safetensors`;
    const path = join(out, name);
    folder.lock.assertHeld(out);
    const run: SavedRun = { stepInEpoch: st.stepInEpoch, epochLoss, ...(ema ? { emaUpdates: ema.updates } : {}) };
    // With an average, the model's weights in the file are the average's (what the evaluation measured).
    const training = ema ? stateDict(model) : null;
    const write = () => saveCheckpoint(path, {
      model, optimizer, training, epoch: st.epoch, step: st.globalStep, rng: { seed: o.seed }, runId,
      extra: { options: { ...savedOptions, resume: null, profile: false }, classes: data.classes, run,
          // The test accuracy of exactly these weights, for whoever loads them (export names it).
        evaluation: lastEval && lastEval.epoch === st.epoch && st.stepInEpoch === 0
          ? { split: 'test', epoch: lastEval.epoch, accuracy: lastEval.accuracy, loss: lastEval.loss, count: lastEval.count, averaged: lastEval.averaged } : undefined },
    });
    try {
      if (ema) ema.withAveraged(write);
      else write();
    } catch (e) {
      // Say where the last good state is (disk full, folder gone read-only): the run stops here.
      const last = history.checkpoints.at(-1)?.path ?? o.resume;
      throw new Error(`${(e as Error).message}${last ? `; the last good checkpoint is ${last}` : ''}`, { cause: e });
    }
    const e: CheckpointEvent = { epoch: st.epoch, step: st.globalStep, path, reason };
    history.checkpoints.push(e);
    hooks.onCheckpoint?.(e);
    record('checkpoint', e);
  };

  const params = model.parameters();
  const guard = o.skipNonFinite ? new NonFiniteGuard(model, device) : null;
  // With the guard the loss is read every step; these sums stand in for the device accumulators.
  const hostWindow = { lossSum: 0, batches: 0, correct: 0, samples: 0 };
  const readHostWindow = () => {
    const w = { ...hostWindow };
    Object.assign(hostWindow, { lossSum: 0, batches: 0, correct: 0, samples: 0 });
    return { loss: w.batches ? w.lossSum / w.batches : NaN, accuracy: w.samples ? w.correct / w.samples : NaN, correct: w.correct, samples: w.samples, batches: w.batches };
  };
  const samplesPerEpoch = train.images.shape[0];
  let windowStart = performance.now();
  let windowImages = 0;
  const runStart = st.globalStep;
  const totalSteps = o.epochs * stepsPerEpoch;
  let rate = 0;
  const profile = o.profile ? new ProfileWindow(device, model, o.profileWarmup, o.profileSteps, (r) => {
    history.profile = r;
    hooks.onProfile?.(r);
    record('profile', r);
  }) : null;
  // The loop is split in small functions so that V8 optimizes the hot one (trainStep, called every step)
  // during the first epoch. As one 260-line function, runTraining was compiled by on-stack replacement
  // thousands of steps in, and glibc kept that large compilation's memory: bench/soak.ts saw RSS step
  // up ~2 MiB at step ~6,000.
  let epochImages = 0;
  // Training time of this process (steps and readings, not what happens between epochs), for the ticks.
  let trainedSeconds = 0;
  let epochTrainStart = 0;
  let lastTick = -Infinity;
  const tick = (now: number) => {
    lastTick = now;
    hooks.onTick?.({ epoch: st.epoch + 1, step: st.globalStep, stepInEpoch: st.stepInEpoch, stepsPerEpoch,
      trainSeconds: trainedSeconds + (now - epochTrainStart) / 1000 });
  };
  // Profiling times each op, which a replayed graph does not show.
  const graphSetting = o.profile ? 'off' : o.graphs;
  const graphNotice = (message: string) => warn({ kind: 'other', message });
  const graphs = new StepGraphs({ device, graphs: graphSetting, onNotice: graphNotice });
  const rearm = () => {
    model.rearmStep();
    loss.rearmStep();
  };
  /** One optimizer step on the next batch. */
  const trainStep = (): void => {
    // Prepare: every host effect of the step (batch indices and seeds written to the device, counters).
    const pb = loader.prepare(st.epoch, st.stepInEpoch);
    const logitsShape = model.build(device, [pb.size, 3, 32, 32]);
    loss.build(device, logitsShape);
    model.train();
    guard?.save(); // before prepareStep, so that restore() also takes back its BatchNorm counts
    model.prepareStep();
    loss.prepareStep(pb.size);
    optimizer.lr = scheduleLr(schedule, o.lr, st.globalStep);
    // The optimizer joins the captured step unless the guard decides on the host whether it runs.
    const withUpdate = !guard && optimizer.graphable;
    if (withUpdate) optimizer.prepareStep();
    // Launch: device work only, which a CUDA graph replays (one graph per batch size).
    const plain = o.augment && !pb.params.flip ? ', plain' : '';
    graphs.run(`${withUpdate ? 'training' : 'forward-backward'} batch ${pb.size}${plain}`, () => {
      const b = loader.launch(pb);
      model.backward(loss.forward(model.forward(b.images), b.labels)!);
      if (withUpdate) optimizer.applyStep();
    }, rearm);
    if (guard) {
      const r = loss.read();
      if (Number.isFinite(r.loss) && guard.gradientsFinite(params)) {
        optimizer.step();
        hostWindow.lossSum += r.loss * r.batches;
        hostWindow.batches += r.batches;
        hostWindow.correct += r.correct;
        hostWindow.samples += r.samples;
      } else {
        guard.restore();
        if (guard.skipped === 1 || guard.skipped % 100 === 0) {
          warn({ kind: 'non-finite', message: `step ${st.globalStep + 1} (epoch ${st.epoch + 1}) had a non-finite loss or gradient and was skipped ` +
            `(--skip-non-finite; ${guard.skipped} skipped so far); ${findNonFinite(model).message}` });
        }
      }
    } else if (!withUpdate) optimizer.step();
    st.stepInEpoch++;
    st.globalStep++;
    ema?.afterStep(st.globalStep);
    windowImages += pb.size;
    epochImages += pb.size;
  };
  /** A reading of the loss (every `display` steps and at the end of the epoch); false when the run stops. */
  const reading = (): boolean => {
    const r = guard ? readHostWindow() : loss.read();
    epochLoss.sum += r.loss * r.batches;
    epochLoss.correct += r.correct;
    epochLoss.samples += r.samples;
    epochLoss.batches += r.batches;
    const now = performance.now();
    rate = (1000 * windowImages) / Math.max(1e-3, now - windowStart);
    windowStart = now;
    windowImages = 0;
    const done = st.globalStep - runStart;
    const left = totalSteps - st.globalStep;
    const seen = Math.min(st.stepInEpoch * o.batchSize, samplesPerEpoch);
    const p: ProgressEvent = { epoch: st.epoch + 1, step: st.globalStep, stepInEpoch: st.stepInEpoch, stepsPerEpoch, samplesSeen: seen,
      samplesPerEpoch, loss: r.loss, accuracy: r.accuracy, lr: optimizer.lr, imagesPerSecond: rate,
      etaSeconds: done > 0 && rate > 0 ? (left * o.batchSize) / rate : NaN };
    steps.push(p);
    hooks.onProgress?.(p);
    record('step', p);
    if ((st.stepInEpoch - 1) % o.display === 0) log(`Epoch ${st.epoch + 1} ${seen} / ${samplesPerEpoch} Loss ${r.loss}`);
    if (!finite(r.loss) && !guard) {
      warn({ kind: 'non-finite', message: `the training loss became ${r.loss} at step ${st.globalStep} (epoch ${st.epoch + 1}); ` +
        `${findNonFinite(model).message}; ` +
        `the weights since the last checkpoint are not trusted${history.checkpoints.length ? `: ${history.checkpoints.at(-1)!.path} holds the last good state` : ''}. ` +
        'Lower --lr or use --bn.' });
      if (o.stopOnNonFinite) {
        history.stoppedOnNonFinite = true;
        return false;
      }
    }
    if (finite(r.loss) && stall.observe(r.loss)) {
      warn({ kind: 'stall', message: stall.message({ optimizer: o.optimizer, lr: o.lr, batchNorm: o.batchNorm, reluOnLogits: o.reluOnLogits,
        zeroFractions: reluZeroFractions(model) }) });
    }
    return true;
  };
  /** One epoch's steps; false when the run stops early. */
  const trainEpoch = (): boolean => {
    epochImages = 0;
    // The first reading of an epoch counts this epoch's steps only, not the evaluation, checkpoint and
    // report before it.
    epochTrainStart = windowStart = performance.now();
    windowImages = 0;
    try {
      for (; st.stepInEpoch < stepsPerEpoch; ) {
        if (hooks.shouldStop?.()) {
          profile?.finish();
          history.aborted = true;
          save('abort');
          return false;
        }
        profile?.beforeStep(stepsPerEpoch - st.stepInEpoch);
        trainStep();
        if (((st.stepInEpoch - 1) % o.display === 0 || st.stepInEpoch === stepsPerEpoch) && !reading()) {
          profile?.finish();
          return false;
        }
        profile?.afterStep(st.stepInEpoch === stepsPerEpoch);
        const now = performance.now();
        if (st.globalStep === runStart + 1 || st.stepInEpoch === stepsPerEpoch || now - lastTick >= TICK_MS) tick(now);
      }
      return true;
    } finally {
      trainedSeconds += (performance.now() - epochTrainStart) / 1000;
    }
  };
  try {
    for (; st.epoch < o.epochs; ) {
      const epochStart = performance.now();
      if (!trainEpoch()) break;
      st.epoch++;
      st.stepInEpoch = 0;
      const seconds = (performance.now() - epochStart) / 1000;
      let testLoss: number | null = null;
      let testAccuracy: number | null = null;
      if (test) {
        const evaluate = () => evaluateSplit(model, test, { batchSize: Math.max(o.batchSize, 256), normalize: o.normalize, classes: data.classes,
          split: 'test', labels: testHost.labels, tta: o.tta, mirrored: testMirrored ?? undefined, graphs: graphSetting, onNotice: graphNotice });
        const ev = ema ? ema.withAveraged(evaluate) : evaluate();
        testLoss = ev.loss;
        testAccuracy = ev.accuracy;
        lastEval = { ...ev, epoch: st.epoch, averaged: ema !== null };
      }
      const e: EpochEvent = { epoch: st.epoch, trainLoss: epochLoss.batches ? epochLoss.sum / epochLoss.batches : NaN,
        trainAccuracy: epochLoss.samples ? epochLoss.correct / epochLoss.samples : NaN, testLoss, testAccuracy, testTta: test ? o.tta : null, testEma: test !== null && ema !== null, seconds,
        imagesPerSecond: epochImages / Math.max(1e-9, seconds) };
      Object.assign(epochLoss, { sum: 0, correct: 0, samples: 0, batches: 0 });
      history.epochs.push(e);
      hooks.onEpoch?.(e);
      record('epoch', e);
      if (st.epoch % o.saveEvery === 0 || st.epoch === o.epochs) save(st.epoch === o.epochs ? 'final' : 'scheduled');
      if (st.epoch < o.epochs) await publish('running');
    }
  } finally {
    history.graphs = { ...graphs.stats, off: graphs.offReason };
    graphs.dispose();
    profile?.cancel();
    loader.dispose();
    guard?.dispose();
    ema?.dispose();
    loss.dispose();
    model.dispose();
    train.dispose();
    test?.dispose();
    testMirrored?.dispose();
  }
  history.seconds = (performance.now() - t0) / 1000;
  await publish(history.aborted ? 'aborted' : history.stoppedOnNonFinite ? 'stopped: non-finite loss' : 'finished');
  return history;
}
