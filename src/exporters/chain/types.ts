/**
 * The exporter chain (CONVENTIONS 8): queue → breaker → retry → timeout →
 * send. Every layer wraps the next one, `(next) => send`, so a layer sees
 * the request on the way down and the result on the way back up.
 */

import type { Lane } from '../../core/lanes.js';
import type { ExportResult } from '../exporter.js';

/** Which export path a request belongs to; critical drains first. */
export type { Lane };

export interface SendRequest {
  /** the bytes on the wire (OTLP: gzipped protobuf) */
  body: Uint8Array;
  /** protobuf size before gzip */
  uncompressedBytes: number;
  /** data points inside, for counting */
  points: number;
  lane: Lane;
}

/**
 * An ExportResult as it comes back through the chain. `breakerOpen` is set
 * when a circuit breaker refused the request without sending it: the data is
 * intact, and the caller should keep it and wait `retryAfterMs`.
 */
export type SendResult = ExportResult & { breakerOpen?: boolean };

/**
 * Send one request. Failures resolve to `{ ok: false }`; a rejection means
 * misuse (e.g. sending after shutdown). `signal` asks the layers to stop
 * waiting (shutdown); a request already on the wire is not cut short by it.
 */
export type Send = (req: SendRequest, signal?: AbortSignal) => Promise<SendResult>;

export type Layer = (next: Send) => Send;

/** `compose(a, b, c)(send)` is `a(b(c(send)))`: the first layer is the outermost. */
export function compose(...layers: Layer[]): Layer {
  return (send) => layers.reduceRight<Send>((next, layer) => layer(next), send);
}
