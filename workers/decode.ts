/**
 * piscina task: decompress and decode one OTLP request body.
 * A thin adapter: the work lives in src/sources/receiver/decode.ts.
 */
import { type DecodeOutcome, type DecodeTask, decodeTaskSync } from '../src/sources/receiver/decode.js';

export default function decodeBody(task: DecodeTask): DecodeOutcome {
  return decodeTaskSync(task);
}
