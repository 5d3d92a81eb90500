// A decision-log sink on 127.0.0.1 that records every event it acknowledges, and can be
// taken down (connection refused) and brought back on the same port.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

export interface Sink {
  readonly url: string;
  readonly events: Record<string, unknown>[];
  readonly batches: () => number;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startSink(port = 0): Promise<Sink> {
  const events: Record<string, unknown>[] = [];
  let batches = 0;
  let server: Server | undefined;
  let boundPort = port;
  const listen = () =>
    new Promise<void>((resolve) => {
      server = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(Buffer.concat(chunks)) : Buffer.concat(chunks);
          events.push(...(JSON.parse(body.toString('utf8')) as Record<string, unknown>[]));
          batches++;
          res.statusCode = 204;
          res.end();
        });
      });
      server.keepAliveTimeout = 1000;
      server.listen(boundPort, '127.0.0.1', () => {
        boundPort = (server?.address() as AddressInfo).port;
        resolve();
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      if (!server) return resolve();
      // Graceful: requests in flight are answered, then nothing is accepted. (A sink that dies
      // mid-request makes the batch be sent again; events carry decision_id for deduplication.)
      const s = server;
      server = undefined;
      s.close(() => resolve());
      s.closeIdleConnections();
    });
  await listen();
  return { url: `http://127.0.0.1:${boundPort}/logs`, events, batches: () => batches, down, up: listen, close: down };
}
