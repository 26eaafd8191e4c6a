/**
 * piscina task: decompress and decode one big OTLP request body (JSON: the
 * parse that cannot be sliced), and hand it back re-encoded as protobuf; the
 * main thread decodes that in slices (src/sources/receiver/decode.ts says
 * why not the objects themselves: a typed array crosses threads as one
 * copy, an object graph as a long structured clone). A thin adapter: the
 * work lives in src/sources/receiver/decode.ts and src/otlp/proto.ts.
 */
import { encodeRequest } from '../src/otlp/proto.js';
import { type DecodeTask, decodeTaskSync, type ReencodeOutcome } from '../src/sources/receiver/decode.js';

export default function decodeBody(task: DecodeTask): ReencodeOutcome {
  const out = decodeTaskSync(task);
  if (!out.ok) return out;
  return { ok: true, protobuf: encodeRequest(out.request), decodedBytes: out.decodedBytes };
}
