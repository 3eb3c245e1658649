// Entry of the child process that draws report.html for a running training (lib/report/publish.ts):
// `node render-child.js RUN_DIR`. Exit code 0 when the page was written; otherwise the reason on stderr.
import { native } from '../backend.js';
import { renderReport } from './report.js';

// Ctrl-C in a terminal reaches the whole process group: the trainer handles it (saves, then publishes the
// final report), and a page being drawn is finished rather than left behind as a warning.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => {});
try {
  native.setThreads(1);
  await renderReport(process.argv[2]);
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exitCode = 1;
}
