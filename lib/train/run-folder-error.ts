// Why a training run refused its output folder, with a code a caller can test (the same for the CLI,
// train() and runTraining()) and the facts behind it.

export type RunFolderErrorCode =
  /** The folder holds checkpoints, run.json or report files of another run. */
  | 'out-holds-another-run'
  /** Resuming from an earlier checkpoint would replace this run's later checkpoints. */
  | 'out-holds-later-checkpoints'
  /** Another live process (or one on another host) holds the folder's run.lock. */
  | 'run-in-progress';

/** The process named in a run folder's lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  startedAt: string;
  runId: string;
  /** The holder's command line (shortened). */
  command: string;
}

export interface RunFolderErrorDetails {
  folder: string;
  /** The files in the way (names inside `folder`). */
  files?: string[];
  holder?: LockHolder;
}

export class RunFolderError extends Error {
  readonly code: RunFolderErrorCode;
  readonly folder: string;
  readonly files: string[];
  readonly holder: LockHolder | null;
  constructor(code: RunFolderErrorCode, message: string, details: RunFolderErrorDetails) {
    super(message);
    this.name = 'RunFolderError';
    this.code = code;
    this.folder = details.folder;
    this.files = details.files ?? [];
    this.holder = details.holder ?? null;
  }

  get details(): RunFolderErrorDetails {
    return { folder: this.folder, files: this.files, ...(this.holder ? { holder: this.holder } : {}) };
  }
}
