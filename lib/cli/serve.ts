// `vgg-cifar serve FOLDER`: serves an exported page (or any folder) on 127.0.0.1 until Ctrl-C.
import type { Command } from 'commander';
import { serve } from '../export/serve.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a folder (an exported web page or TF.js model) on http://127.0.0.1 for a quick look')
    .argument('<folder>', 'the folder to serve')
    .option('--port <n>', 'port (0 picks a free one)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n)) throw new Error(`--port must be an integer, got '${v}'`);
      return n;
    }, 8080)
    .action(async (folder: string, f: { port: number }) => {
      const s = await serve({ folder, port: f.port });
      process.stdout.write(`serving ${s.folder} at ${s.url} (Ctrl-C to stop)\n`);
      await new Promise<void>((done) => {
        const stop = () => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          void s.close().then(done);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
