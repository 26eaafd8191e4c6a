/**
 * A real node:http server on 127.0.0.1 (port 0) for exporter tests: it
 * records every request with its raw body and answers through a responder
 * that can also leave a request hanging.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** client port: equal across requests when the connection was kept alive */
  remotePort: number;
}

export interface Reply {
  status: number;
  body?: Uint8Array | string;
  headers?: Record<string, string>;
}

/** `'hang'` never answers (until the server closes). */
export type Responder = (req: ReceivedRequest) => Reply | 'hang' | Promise<Reply | 'hang'>;

export interface LoopbackServer {
  /** `http://127.0.0.1:PORT` */
  origin: string;
  port: number;
  requests: ReceivedRequest[];
  /** replace the responder */
  respond(fn: Responder): void;
  close(): Promise<void>;
}

/** `port` 0 picks a free one; a fixed port lets a test restart "the same" backend. */
export async function startLoopbackServer(
  responder: Responder = () => ({ status: 200 }),
  port = 0,
): Promise<LoopbackServer> {
  let current = responder;
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: ReceivedRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks),
        remotePort: req.socket.remotePort ?? 0,
      };
      requests.push(r);
      Promise.resolve(current(r)).then(
        (reply) => {
          if (reply === 'hang') return;
          res.writeHead(reply.status, reply.headers);
          res.end(reply.body);
        },
        (e: unknown) => {
          res.writeHead(500);
          res.end(String(e));
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${bound}`,
    port: bound,
    requests,
    respond(fn) {
      current = fn;
    },
    close() {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A 127.0.0.1 port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
