/**
 * A small OpAMP server for the tests: plain HTTP on loopback, decoding each
 * AgentToServer and encoding the ServerToAgent answer straight from the
 * official protocol definitions (proto/opamp/v1/*.proto, vendored from
 * open-telemetry/opamp-spec) with protobufjs, independently of nrdot's own
 * OpAMP module.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import protobuf from 'protobufjs';
import { REPO } from './cli.js';

const root = new protobuf.Root();
root.resolvePath = (_o, target) => path.join(REPO, 'proto', target);
root.loadSync('opamp/v1/opamp.proto', { keepCase: true });
root.resolveAll();
const A2S = root.lookupType('opamp.proto.v1.AgentToServer');
const S2A = root.lookupType('opamp.proto.v1.ServerToAgent');

/** An AgentToServer as decoded here: 64-bit integers as decimal strings, bytes as Buffers. */
// biome-ignore lint/suspicious/noExplicitAny: decoded protobuf objects are checked field by field in the tests
export type Decoded = Record<string, any>;

/** What a test answers: a ServerToAgent (snake_case fields), or an HTTP status. */
export type Answer = Record<string, unknown> | { httpStatus: number; headers?: Record<string, string> };

export interface OpampTestServer {
  url: string;
  port: number;
  messages: Decoded[];
  /** request headers, one per message */
  headers: Record<string, string | string[] | undefined>[];
  answer(fn: (msg: Decoded, index: number) => Answer): void;
  /** wait (at most 10 s, checking every 20 ms) until `pred` holds for some message; returns it */
  waitFor(pred: (m: Decoded) => boolean, what: string): Promise<Decoded>;
  close(): Promise<void>;
}

export function attrs(list: { key: string; value: { string_value?: string } }[] | undefined): Record<string, string> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, kv.value.string_value ?? '']));
}

export async function startOpampServer(port = 0): Promise<OpampTestServer> {
  let fn: (msg: Decoded, index: number) => Answer = () => ({});
  const messages: Decoded[] = [];
  const headers: OpampTestServer['headers'] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let msg: Decoded;
      try {
        msg = A2S.toObject(A2S.decode(Buffer.concat(chunks)), { longs: String, enums: Number, defaults: false });
      } catch (e) {
        res.writeHead(400).end(String(e));
        return;
      }
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-protobuf') {
        res.writeHead(415).end();
        return;
      }
      messages.push(msg);
      headers.push(req.headers);
      const a = fn(msg, messages.length - 1);
      if ('httpStatus' in a) {
        res.writeHead(a.httpStatus as number, (a.headers as Record<string, string>) ?? {}).end();
        return;
      }
      const body = S2A.encode(S2A.fromObject({ instance_uid: msg.instance_uid, ...a })).finish();
      res.writeHead(200, { 'content-type': 'application/x-protobuf', 'content-length': body.length }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const bound = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${bound}/v1/opamp`,
    port: bound,
    messages,
    headers,
    answer(f) {
      fn = f;
    },
    async waitFor(pred, what) {
      for (let i = 0; i < 500; i++) {
        const m = messages.find(pred);
        if (m) return m;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`the OpAMP server never saw ${what}; got ${messages.length} messages`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
