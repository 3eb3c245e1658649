// Download progress for a terminal: a cli-progress bar with bytes and rate when stderr is a TTY, plain
// lines every 10% otherwise (logs and CI stay readable).
import cliProgress from 'cli-progress';

export interface DownloadProgress {
  /** Bytes received so far. */
  received: number;
  /** Bytes expected (Content-Length or the known archive size), when known. */
  total?: number;
  /** Average rate since the transfer started. */
  bytesPerSecond: number;
}

export interface ProgressSink {
  update(p: DownloadProgress): void;
  stop(): void;
}

const mb = (n: number): string => (n / 1e6).toFixed(1);

/** A progress display writing to `stream` (default process.stderr). */
export function terminalProgress(stream: NodeJS.WriteStream = process.stderr, label = 'CIFAR-10'): ProgressSink {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar({
      stream,
      format: `${label} |{bar}| {percentage}% {done}/{all} MB {rate} MB/s ETA {left}`,
      hideCursor: true,
      clearOnComplete: false,
    }, cliProgress.Presets.shades_classic);
    let started = false;
    return {
      update(p) {
        const total = p.total ?? Math.max(p.received, 1);
        const left = p.bytesPerSecond > 0 ? `${Math.max(0, Math.round((total - p.received) / p.bytesPerSecond))}s` : '?';
        const payload = { done: mb(p.received), all: mb(total), rate: mb(p.bytesPerSecond), left };
        if (!started) { bar.start(total, p.received, payload); started = true; }
        bar.setTotal(total);
        bar.update(p.received, payload);
      },
      stop() { if (started) bar.stop(); },
    };
  }
  let lastTenth = -1;
  let lastMb = 0;
  return {
    update(p) {
      if (p.total) {
        const tenth = Math.floor((10 * p.received) / p.total);
        if (tenth === lastTenth) return;
        lastTenth = tenth;
        stream.write(`${label}: ${tenth * 10}% ${mb(p.received)}/${mb(p.total)} MB, ${mb(p.bytesPerSecond)} MB/s\n`);
      } else if (p.received - lastMb >= 10e6) {
        lastMb = p.received;
        stream.write(`${label}: ${mb(p.received)} MB, ${mb(p.bytesPerSecond)} MB/s\n`);
      }
    },
    stop() {},
  };
}
