/**
 * The OTLP/HTTP metrics receiver: what a Collector's `otlphttp` exporter (or
 * any OTLP SDK) posts to. Answers follow the OTLP/HTTP specification:
 *
 * - 200 with an ExportMetricsServiceResponse in the request's encoding, with
 *   `partialSuccess` when the sink rejected points, or when memory admission
 *   kept only the request's critical processes (`rejected_data_points`
 *   counts the rest; the message says so);
 * - 400 for a body that does not decompress or decode, with a google.rpc.Status
 *   whose message names what was wrong (the field path for decode errors);
 * - 413 when the body, compressed or decompressed, exceeds `maxBodyBytes`:
 *   an announced Content-Length over the limit is refused before reading, a
 *   body that grows past it stops being read, and gzip stops inflating there;
 * - 415 for a content type other than application/x-protobuf or
 *   application/json (parameters such as charset are fine) or a content
 *   encoding other than gzip/identity; 405 for other methods; 404 for other paths;
 * - 503 with Retry-After when memory admission refuses (the hardest memory
 *   tier, or no room even for the critical part: before the body is read
 *   when that is known from the headers, else once its real size is) or
 *   the sink's `admit()` refuses (before the body is read);
 * - 500 when the sink throws (logged once per error kind, name and code, per minute).
 * An answer with `Connection: close` (413, and early answers to large or
 * unsized bodies) makes Node close the socket once it is sent, so the rest
 * of such a body is never read.
 * Bad input never gets a 5xx.
 *
 * Against a hostile network (src/server/guard.ts): a connection cap that
 * closes idle connections to make room; headers within 10 s, a whole
 * request within 60 s, idle keep-alive closed after 65 s; 403 for a Host
 * that is not a loopback or configured name (DNS rebinding).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { AdmissionTicket, ReceiverAdmission } from '../../control/admission.js';
import type { CriticalTest } from '../../control/critical.js';
import { type Logger, silentLogger } from '../../core/log.js';
import type { ExportMetricsServiceRequest } from '../../otlp/model.js';
import { CONTENT_TYPE, encodeStatus, encodingOf, mediaType, RpcCode, successBody } from '../../otlp/response.js';
import { connectionCap, guardConnections, hostChecker, hostRefusalLogger } from '../../server/guard.js';
import { formatHostPort, listenError, parseListen } from '../../server/listen.js';
import { BodyDecoder, type BodyEncoding, gzipDecompressedSize, type ProtobufHook } from './decode.js';
import { type ShedCounts, ShedError, shedProtobuf, shedRequest } from './shed.js';
import { LogLimiter, type ReceiverStats, StatsRecorder } from './stats.js';

/** Thrown from the decode hook when even a request's critical part cannot be afforded. */
class Refused extends Error {
  constructor(readonly decision: { retryAfterSec: number; reason: string }) {
    super(decision.reason);
  }
}

export type { ReceiverStats } from './stats.js';

export interface ReceiverSink {
  /** called before the body is read; refuse → 503 + Retry-After */
  admit(): { ok: true } | { ok: false; retryAfterSec: number; reason: string };
  accept(
    req: ExportMetricsServiceRequest,
    meta: { points: number; bytes: number; encoding: BodyEncoding },
  ): Promise<{ rejectedDataPoints?: number; errorMessage?: string }>;
}

export interface ReceiverOptions {
  /** 'host:port' or '[v6]:port' (`receiver.listen`); port 0 picks a free port */
  listen: string;
  /** default /v1/metrics */
  path?: string;
  /** limit on the body as received and after decompression (`receiver.max_body_bytes`) */
  maxBodyBytes: number;
  sink: ReceiverSink;
  /** piscina threads for big JSON bodies; 0 (default): one, started on the first */
  decodeWorkers?: number;
  /** bodies (as received) above this decode in slices (JSON on a worker); default 256 KiB */
  workerThresholdBytes?: number;
  /** decode worker module (default dist/workers/decode.js) */
  decodeWorkerFile?: string;
  logger?: Logger;
  /** clock for log rate limiting */
  now?: () => number;
  /** idle keep-alive connection timeout; default 65 s (longer than typical client pools) */
  keepAliveTimeoutMs?: number;
  /** connections at once (default 1024; capped by the fd limit) */
  maxConnections?: number;
  /** Host names served besides loopback names, IP literals and this host's name (receiver.allowed_hosts) */
  allowedHosts?: readonly string[];
  /**
   * Memory admission by size (src/control/admission.ts): each request is
   * admitted whole, shed to its critical processes (answered with partial
   * success), or refused with 503. Without it every request is admitted whole.
   */
  admission?: ReceiverAdmission;
  /** Which processes are critical, for shedding (required with `admission`) */
  critical?: CriticalTest;
}

export interface OtlpReceiver {
  /** http://host:port/v1/metrics */
  url: string;
  close(): Promise<void>;
  stats(): ReceiverStats;
}

export const DEFAULT_WORKER_THRESHOLD_BYTES = 256 * 1024;
/** bodies announced larger than this are not drained after an early answer: the connection closes */
const DRAIN_LIMIT = 64 * 1024;

type Body = Buffer | 'too-large' | 'aborted';

function readBody(req: IncomingMessage, limit: number, announced: number | undefined): Promise<Body> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (b: Body) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      resolve(b);
    };
    // a dedicated buffer when the size is known (transferable to a worker as is)
    const pre = announced !== undefined ? Buffer.allocUnsafeSlow(announced) : undefined;
    const chunks: Buffer[] = [];
    let n = 0;
    const onData = (c: Buffer) => {
      if (n + c.length > limit || (pre && n + c.length > pre.length)) {
        req.pause();
        finish('too-large');
        return;
      }
      if (pre) c.copy(pre, n);
      else chunks.push(c);
      n += c.length;
    };
    req.on('data', onData);
    req.once('end', () => {
      if (pre) finish(n === pre.length ? pre : 'aborted');
      else finish(chunks.length === 1 && chunks[0]!.byteOffset === 0 ? chunks[0]! : Buffer.concat(chunks, n));
    });
    req.once('aborted', () => finish('aborted'));
    req.once('error', () => finish('aborted'));
    req.once('close', () => finish('aborted'));
  });
}

export async function startOtlpReceiver(opts: ReceiverOptions): Promise<OtlpReceiver> {
  const listen = parseListen(opts.listen, '--otlp-listen');
  if (!listen) throw new Error("startOtlpReceiver: listen is 'off'; do not start the receiver");
  const { host, port } = listen;
  const path = opts.path ?? '/v1/metrics';
  const limit = opts.maxBodyBytes;
  const log = opts.logger ?? silentLogger;
  const sink = opts.sink;
  if (opts.admission && !opts.critical) throw new Error('startOtlpReceiver: admission needs a critical test');
  const isCritical: CriticalTest = opts.critical ?? (() => true);
  const stats = new StatsRecorder();
  const limiter = new LogLimiter(60_000, opts.now ?? Date.now);
  const decoder = new BodyDecoder({
    workers: opts.decodeWorkers ?? 0,
    thresholdBytes: opts.workerThresholdBytes ?? DEFAULT_WORKER_THRESHOLD_BYTES,
    workerFile: opts.decodeWorkerFile,
  });

  const send = (
    res: ServerResponse,
    status: number,
    body: Uint8Array | string,
    encoding: BodyEncoding,
    headers?: Record<string, string>,
  ) => {
    stats.answered(status);
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { 'Content-Type': CONTENT_TYPE[encoding], ...headers });
    res.end(body);
  };
  const fail = (
    res: ServerResponse,
    status: number,
    code: number,
    message: string,
    encoding: BodyEncoding,
    headers?: Record<string, string>,
  ) => send(res, status, encodeStatus(code, message, encoding), encoding, headers);

  const checkHost = hostChecker(opts.allowedHosts ?? []);
  const hostLog = hostRefusalLogger('otlp receiver', 'receiver.allowed_hosts', log);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const pathname = q >= 0 ? url.slice(0, q) : url;
    const encoding = encodingOf(req.headers['content-type']);
    const replyEnc: BodyEncoding = encoding ?? 'json';
    const announcedHeader = req.headers['content-length'];
    const announced = announcedHeader !== undefined ? Number(announcedHeader) : undefined;
    // an answer given without reading the body: drain small bodies, close on large or unknown ones
    const early = (): Record<string, string> =>
      announced !== undefined && announced <= DRAIN_LIMIT ? {} : { Connection: 'close' };

    const badHost = checkHost(req);
    if (badHost) {
      hostLog.note(badHost, req.socket.remoteAddress);
      return fail(
        res,
        403,
        RpcCode.PERMISSION_DENIED,
        `Host '${badHost}' is not served here; add it to receiver.allowed_hosts`,
        replyEnc,
        early(),
      );
    }

    if (pathname !== path) {
      return fail(
        res,
        404,
        RpcCode.NOT_FOUND,
        `no handler for ${pathname}; OTLP metrics go to ${path}`,
        replyEnc,
        early(),
      );
    }
    if (req.method !== 'POST') {
      return fail(res, 405, RpcCode.UNIMPLEMENTED, `method ${req.method} not allowed; use POST`, replyEnc, {
        Allow: 'POST',
        ...early(),
      });
    }
    if (!encoding) {
      const got = mediaType(req.headers['content-type']) || '(none)';
      return fail(
        res,
        415,
        RpcCode.UNIMPLEMENTED,
        `unsupported content type ${got}; use application/x-protobuf or application/json`,
        replyEnc,
        early(),
      );
    }
    const ce = (req.headers['content-encoding'] ?? '').trim().toLowerCase();
    if (ce !== '' && ce !== 'identity' && ce !== 'gzip') {
      return fail(
        res,
        415,
        RpcCode.UNIMPLEMENTED,
        `unsupported content encoding ${ce}; use gzip or identity`,
        encoding,
        early(),
      );
    }
    if (announced !== undefined && !(Number.isInteger(announced) && announced >= 0)) {
      return fail(res, 400, RpcCode.INVALID_ARGUMENT, `bad Content-Length ${announcedHeader}`, encoding, {
        Connection: 'close',
      });
    }
    if (announced !== undefined && announced > limit) {
      return fail(
        res,
        413,
        RpcCode.RESOURCE_EXHAUSTED,
        `body of ${announced} bytes exceeds the ${limit}-byte limit`,
        encoding,
        { Connection: 'close' },
      );
    }
    const gzip = ce === 'gzip';
    const ticket = opts.admission?.open({ bytes: announced, encoding, gzip });
    try {
      await admitAndServe(req, res, encoding, gzip, announced, early, ticket);
    } finally {
      ticket?.release();
    }
  }

  async function admitAndServe(
    req: IncomingMessage,
    res: ServerResponse,
    encoding: BodyEncoding,
    gzip: boolean,
    announced: number | undefined,
    early: () => Record<string, string>,
    ticket: AdmissionTicket | undefined,
  ): Promise<void> {
    const refuse = (d: { retryAfterSec: number; reason: string }, headers: Record<string, string>) => {
      stats.memoryRefusal();
      return fail(res, 503, RpcCode.UNAVAILABLE, `not accepting data: ${d.reason}`, encoding, {
        'Retry-After': String(Math.max(1, Math.ceil(d.retryAfterSec))),
        ...headers,
      });
    };
    if (ticket?.decision.mode === 'refuse') return refuse(ticket.decision, early());
    const admitted = sink.admit();
    if (!admitted.ok) {
      const retry = String(Math.max(0, Math.ceil(admitted.retryAfterSec)));
      return fail(res, 503, RpcCode.UNAVAILABLE, `not accepting data: ${admitted.reason}`, encoding, {
        'Retry-After': retry,
        ...early(),
      });
    }

    const body = await readBody(req, limit, announced);
    if (body === 'aborted') {
      stats.answered('aborted');
      return;
    }
    if (body === 'too-large') {
      return fail(res, 413, RpcCode.RESOURCE_EXHAUSTED, `body exceeds the ${limit}-byte limit`, encoding, {
        Connection: 'close',
      });
    }
    stats.bodyBytes(body.length);

    // the body is in: decide again on its real size (a gzip body's from its trailer)
    let mode: 'full' | 'critical' = 'full';
    if (ticket) {
      const d = ticket.sized(gzip ? gzipDecompressedSize(body, limit) : body.length);
      if (d.mode === 'refuse') return refuse(d, {});
      mode = d.mode;
    }
    let shed: ShedCounts | undefined;
    const hook: ProtobufHook | undefined =
      mode === 'critical' && ticket
        ? (pb) => {
            let r: ReturnType<typeof shedProtobuf>;
            try {
              r = shedProtobuf(pb, isCritical);
            } catch (e) {
              if (e instanceof ShedError) return pb; // malformed: the decoder names the problem
              throw e;
            }
            shed = r;
            const d = ticket.kept(r.kept.length);
            if (d.mode === 'refuse') throw new Refused(d);
            return r.kept;
          }
        : undefined;

    const onWorker = decoder.usesWorker(body.length, encoding);
    const t0 = performance.now();
    let out: Awaited<ReturnType<BodyDecoder['decode']>>;
    try {
      out = await decoder.decode({ body, encoding, gzip, maxBytes: limit }, hook);
    } catch (e) {
      if (e instanceof Refused) return refuse(e.decision, {});
      throw e;
    }
    if (!out.ok) {
      stats.decodeFailed(onWorker);
      log.debug({ status: out.status, reason: out.message, bytes: body.length }, 'otlp receiver: refused a body');
      const code = out.status === 413 ? RpcCode.RESOURCE_EXHAUSTED : RpcCode.INVALID_ARGUMENT;
      return fail(res, out.status, code, out.message, encoding, out.status === 413 ? { Connection: 'close' } : {});
    }
    let request = out.request;
    let points = out.points;
    if (mode === 'critical' && ticket && !shed) {
      // JSON (or protobuf the shedder could not walk): shed the decoded request
      const r = shedRequest(out.request, isCritical);
      shed = r;
      request = r.request;
      points -= r.shedPoints;
      const total = points + r.shedPoints;
      const d = ticket.kept(total > 0 ? (out.decodedBytes * points) / total : 0);
      if (d.mode === 'refuse') return refuse(d, {});
    }
    const shedPoints = shed?.shedPoints ?? 0;
    stats.decoded(points + shedPoints, out.decodedBytes, (performance.now() - t0) * 1000, onWorker);

    let result: { rejectedDataPoints?: number; errorMessage?: string } = {};
    if (!shed || shed.keptResources > 0) {
      try {
        result = await sink.accept(request, { points, bytes: body.length, encoding });
      } catch (e) {
        const err = e as Error & { code?: string };
        const kind = `${err?.name ?? typeof e}:${err?.code ?? ''}`;
        const allow = limiter.admit(kind);
        if (allow) log.error({ err, suppressedSinceLast: allow.suppressed }, 'otlp receiver: sink failed');
        return fail(res, 500, RpcCode.INTERNAL, 'internal error while accepting data', encoding);
      }
    }
    let rejected = Math.max(0, Math.floor(result?.rejectedDataPoints ?? 0));
    let message = result?.errorMessage;
    if (shed && (shed.shedResources > 0 || shedPoints > 0)) {
      stats.shed(shedPoints);
      rejected += shedPoints;
      const why =
        `memory limit: ${shedPoints} data points of ${shed.shedResources} non-critical resources refused, ` +
        `${shed.keptResources} critical processes accepted (memory.limit_mib)`;
      message = message ? `${why}; ${message}` : why;
    }
    if (rejected) stats.rejectedPoints(rejected);
    send(res, 200, successBody(rejected, message, encoding), encoding);
  }

  const server: Server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      // only reachable through a bug here: answer rather than leave the client hanging
      const allow = limiter.admit(`handler:${(e as Error)?.message}`);
      if (allow) log.error({ err: e, suppressedSinceLast: allow.suppressed }, 'otlp receiver: request handler failed');
      fail(res, 500, RpcCode.INTERNAL, 'internal error', 'json');
    });
  });
  server.keepAliveTimeout = opts.keepAliveTimeoutMs ?? 65_000;
  // since Node 18 the headers timer runs from a request's first byte (or the
  // connection's start), not across keep-alive idleness: it can be short
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  server.timeout = 60_000; // a socket with no traffic at all
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (e: unknown) => reject(listenError(e, listen, '--otlp-listen'));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const connections = guardConnections(server, {
    name: 'otlp receiver',
    maxConnections: connectionCap(opts.maxConnections ?? 1024, 0.5),
    logger: log,
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${formatHostPort(addr.address, addr.port)}${path}`;
  log.info({ url, decodeWorkers: opts.decodeWorkers, maxBodyBytes: limit }, 'otlp receiver listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    stats: () => ({ ...stats.snapshot(), connections: connections.stats(), refusedHosts: hostLog.refused }),
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          connections.closeIdle();
          // a request still uploading after its own timeout's worth of time is cut off
          const force = setTimeout(() => server.closeAllConnections(), server.requestTimeout);
          force.unref();
        });
        await decoder.close();
      })();
      return closing;
    },
  };
}
