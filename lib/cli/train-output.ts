// Where `vgg-cifar train` prints. Off a terminal: plain lines (stdout) and warnings (stderr). On one: a
// single bar on stderr for the whole run, every line printed above it (cli-progress's MultiBar.log), so
// that its estimates come from the whole run and not from the steps since the last line.
import cliProgress from 'cli-progress';
import type { ProgressEvent, TickEvent } from '../train/events.js';
import { progressLine, BAR_MAX, type BarFields } from './progress-format.js';
import { RunEta, type Eta } from '../train/eta.js';

export interface TrainOutput {
  /** A line for stdout (the report's lines, epoch summaries, checkpoints). */
  line(text: string): void;
  /** Text for stderr, newlines included (warnings, the Ctrl-C notice). */
  note(text: string): void;
  progress(p: ProgressEvent): void;
  tick(t: TickEvent): void;
  /** Ends the bar (its last state stays on screen, with ETAs of 0s when `finished`, -- otherwise) and
   *  shows the cursor again; idempotent. */
  stop(finished?: boolean): void;
}

export function plainOutput(): TrainOutput {
  return {
    line: (text) => process.stdout.write(text + '\n'),
    note: (text) => process.stderr.write(text),
    progress: () => {},
    tick: () => {},
    stop: () => {},
  };
}

const now = () => performance.now() / 1000;

/** The bar on `process.stderr` (a terminal); stdout lines go above it when stdout is that terminal too. */
export function barOutput(epochs: number): TrainOutput {
  const eta = new RunEta(epochs);
  const fields: BarFields = { epoch: 1, epochs, stepInEpoch: 0, stepsPerEpoch: 1, epochEta: NaN, runEta: NaN,
    imagesPerSecond: NaN, loss: NaN, accuracy: NaN };
  const multibar = new cliProgress.MultiBar({
    // A function format (cli-progress calls it at every redraw, 10 a second): the ETAs count down
    // between ticks and the line fits the terminal's width as it is now.
    format: (options, params) => {
      const e = final ?? eta.estimate(now());
      return progressLine({ ...fields, epochEta: e.epoch, runEta: e.run }, params.maxWidth,
        (size) => cliProgress.Format.BarFormat(params.progress, { ...options, barsize: size }));
    },
    // forceRedraw: a redraw that writes logged lines over the bar's row must draw the bar again even
    // when its text has not changed.
    barsize: BAR_MAX, hideCursor: true, linewrap: true, forceRedraw: true, stream: process.stderr, gracefulExit: false,
  }, cliProgress.Presets.shades_classic);
  let bar: cliProgress.SingleBar | null = null;
  let stopped = false;
  let final: Eta | null = null;
  const move = (epoch: number, stepInEpoch: number, stepsPerEpoch: number) => {
    if (stopped) return;
    Object.assign(fields, { epoch, stepInEpoch, stepsPerEpoch });
    if (!bar) bar = multibar.create(stepsPerEpoch, stepInEpoch);
    else {
      if (bar.getTotal() !== stepsPerEpoch) bar.setTotal(stepsPerEpoch);
      bar.update(stepInEpoch);
    }
  };
  // Until the bar is up (the first step), and after it is gone, lines go straight out.
  const above = (text: string, plain: () => void) => (bar && !stopped ? multibar.log(text) : plain());
  const stdoutIsScreen = Boolean(process.stdout.isTTY);
  return {
    line: (text) => (stdoutIsScreen ? above(text + '\n', () => process.stdout.write(text + '\n')) : process.stdout.write(text + '\n')),
    note: (text) => above(text.endsWith('\n') ? text : text + '\n', () => process.stderr.write(text)),
    progress: (p) => {
      Object.assign(fields, { imagesPerSecond: p.imagesPerSecond, loss: p.loss, accuracy: p.accuracy });
      move(p.epoch, p.stepInEpoch, p.stepsPerEpoch);
    },
    tick: (t) => {
      eta.observe(t, now());
      move(t.epoch, t.stepInEpoch, t.stepsPerEpoch);
    },
    stop: (finished = false) => {
      if (stopped) return;
      stopped = true;
      if (!bar) return;
      final = finished ? { epoch: 0, run: 0 } : { epoch: NaN, run: NaN };
      multibar.update(); // writes the lines logged since the last redraw, which stop() alone drops
      multibar.stop();
    },
  };
}
