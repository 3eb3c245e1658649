// `vgg-cifar serve FOLDER`: a static file server (sirv) on 127.0.0.1 for a quick look at an exported
// page or TF.js model. Only the loopback address: the folder is not offered to the network. The page
// is cross-origin isolated (COOP/COEP), which lets ONNX Runtime Web use several threads.
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import sirv from 'sirv';
import { isFolder } from '../atomic-file.js';

export interface ServeOptions {
  folder: string;
  /** 0 picks a free port. Default 8080. */
  port?: number;
}

export interface Serving {
  url: string;
  port: number;
  folder: string;
  close(): Promise<void>;
}

export async function serve(o: ServeOptions): Promise<Serving> {
  const folder = resolve(o.folder);
  if (!isFolder(folder)) throw new Error(`serve: ${o.folder} is not a folder`);
  const port = o.port ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`serve: port must be an integer from 0 to 65535, got ${String(o.port)}`);
  // dev: files are looked up on every request, so a page re-exported with --force is served as it is now.
  const files = sirv(folder, {
    dev: true,
    setHeaders: (res) => {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    },
  });
  const server: Server = createServer((req, res) => files(req, res, () => {
    res.statusCode = 404;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(`not found: ${req.url ?? ''}\n`);
  }));
  // Node closes idle keep-alive connections after 5 s; a client whose event loop was busy longer than
  // that (loading a model) may reuse one just as it closes and see ECONNRESET. A minute avoids the race.
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => fail(e.code === 'EADDRINUSE'
      ? new Error(`serve: port ${port} on 127.0.0.1 is in use; choose another with --port (0 picks a free one)`)
      : new Error(`serve: cannot listen on 127.0.0.1:${port}: ${e.message}`)));
    server.listen(port, '127.0.0.1', () => ok());
  });
  const bound = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${bound}/`, port: bound, folder,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}
