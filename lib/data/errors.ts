// One error class for everything that is wrong with the data a user pointed us at (missing, malformed,
// unverifiable, unreachable), so callers (the CLI) can print the message without a stack trace.

export type Cifar10ErrorCode = 'missing' | 'malformed' | 'checksum' | 'offline' | 'download' | 'unsafe-archive';

export class Cifar10Error extends Error {
  readonly code: Cifar10ErrorCode;
  constructor(code: Cifar10ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Cifar10Error';
    this.code = code;
  }
}
