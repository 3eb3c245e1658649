// Detects the study report's failure: a training loss stuck at ln(C) (2.3026 for 10 classes), i.e. the
// network predicts the uniform distribution and is not learning. Warns once, in words a student
// understands, naming the likely causes in this run's configuration and the flags that fix them.

export interface StallConfig {
  numClasses: number;
  /** Consecutive loss readings within `tolerance` of ln(C) before warning. */
  patience: number;
  tolerance: number;
}

export interface StallContext {
  optimizer: string;
  lr: number;
  batchNorm: boolean;
  reluOnLogits: boolean;
  /** Fraction of activations that are exactly zero after each ReLU, by layer name (dead ReLUs). */
  zeroFractions?: Record<string, number>;
}

export class StallDetector {
  private run = 0;
  private warned = false;
  readonly target: number;

  constructor(private readonly cfg: StallConfig) {
    if (!(cfg.numClasses >= 2)) throw new RangeError(`stall detector: numClasses must be >= 2, got ${cfg.numClasses}`);
    if (!(cfg.patience >= 1)) throw new RangeError(`stall detector: patience must be >= 1, got ${cfg.patience}`);
    this.target = Math.log(cfg.numClasses);
  }

  /** Feed one loss reading; returns true exactly once, when the stall is first confirmed. */
  observe(loss: number): boolean {
    if (this.warned) return false;
    if (Math.abs(loss - this.target) <= this.cfg.tolerance) this.run++;
    else this.run = 0;
    if (this.run >= this.cfg.patience) {
      this.warned = true;
      return true;
    }
    return false;
  }

  get stalled(): boolean {
    return this.warned;
  }

  message(ctx: StallContext): string {
    const ln = this.target.toFixed(4);
    const lines = [
      `The training loss has stayed at ${ln} = ln(${this.cfg.numClasses}) for ${this.run} readings.`,
      `That is exactly the loss of a network that gives every class the same probability 1/${this.cfg.numClasses}: it is not learning anything.`,
      'Likely causes in this run:',
    ];
    const fixes: string[] = [];
    if (ctx.reluOnLogits) {
      lines.push('  - A ReLU sits on the logits (the report\'s bug): negative scores are clamped to 0, and once all ten are 0 the gradient through them is 0 too.');
      fixes.push('drop --relu-on-logits');
    }
    if (!ctx.batchNorm && (ctx.optimizer === 'adam' || ctx.optimizer === 'adamw') && ctx.lr >= 5e-4) {
      lines.push(`  - ${ctx.optimizer} at lr ${ctx.lr} on a deep VGG without BatchNorm: the first large updates push most ReLUs into the region where they output 0 for every image.`);
      fixes.push('--bn', '--lr 1e-4');
    } else if (ctx.lr >= 0.05 && ctx.optimizer !== 'sgd') {
      lines.push(`  - The learning rate ${ctx.lr} is high for ${ctx.optimizer}.`);
      fixes.push('--lr 1e-4');
    } else if (ctx.lr >= 0.5) {
      lines.push(`  - The learning rate ${ctx.lr} is high.`);
      fixes.push('--lr 0.05');
    }
    const zf = ctx.zeroFractions ?? {};
    const dead = Object.entries(zf).filter(([, f]) => f >= 0.95);
    if (Object.keys(zf).length) {
      lines.push('  - Fraction of ReLU outputs that are exactly 0, by layer (dead ReLUs pass no gradient):');
      for (const [name, f] of Object.entries(zf)) lines.push(`      ${name.padEnd(14)} ${(100 * f).toFixed(1)}%${f >= 0.95 ? '  <- dead' : ''}`);
      if (dead.length) fixes.push('--bn', '--init kaiming_normal');
    }
    if (!ctx.batchNorm && !fixes.includes('--bn')) fixes.push('--bn');
    lines.push(`Flags that fix it: ${[...new Set(fixes)].join(' ')} (or --recipe fast).`);
    return lines.join('\n');
  }
}
