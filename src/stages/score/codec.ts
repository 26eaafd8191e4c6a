/**
 * The encoded scoring batch that crosses thread boundaries: a FlatBuffer
 * (schema src/stages/score/score-batch.fbs, generated code in src/stages/score/fb/) in its
 * own ArrayBuffer so it can be transferred, not copied. Decoding is zero-copy:
 * the vectors are typed-array views into the buffer.
 */
import * as flatbuffers from 'flatbuffers';
import { Params, ScoreBatch } from './fb/score-batch_generated.js';
import type { ScoreParams } from './params.js';
import type { ScoreInput } from './score.js';

export interface DecodedBatch {
  cycle: number;
  nowMs: number;
  params: ScoreParams;
  input: ScoreInput;
}

/** Encode rows [from, to) of `input` into a fresh, transferable ArrayBuffer. */
export function encodeBatch(
  input: ScoreInput,
  params: ScoreParams,
  cycle: number,
  nowMs: number,
  from = 0,
  to = input.count,
): ArrayBuffer {
  const n = to - from;
  const b = new flatbuffers.Builder(64 + n * 21);
  const flags = ScoreBatch.createFlagsVector(b, input.flags.subarray(from, to));
  const rss = ScoreBatch.createRssVector(b, input.rss.subarray(from, to));
  const cpu = ScoreBatch.createCpuVector(b, input.cpu.subarray(from, to));
  const slot = ScoreBatch.createSlotVector(b, input.slot.subarray(from, to));
  const p = Params.createParams(
    b,
    params.alpha,
    params.zThreshold,
    params.minSamples,
    params.relativeJump,
    params.noiseFraction,
    params.minCpu,
    params.minRss,
    params.newCpu,
    params.newRss,
    params.holdMs,
  );
  ScoreBatch.startScoreBatch(b);
  ScoreBatch.addCycle(b, cycle);
  ScoreBatch.addNowMs(b, nowMs);
  ScoreBatch.addParams(b, p);
  ScoreBatch.addSlot(b, slot);
  ScoreBatch.addCpu(b, cpu);
  ScoreBatch.addRss(b, rss);
  ScoreBatch.addFlags(b, flags);
  ScoreBatch.finishScoreBatchBuffer(b, ScoreBatch.endScoreBatch(b));
  // The finished bytes sit at the end of the builder's buffer; copy them to
  // offset 0 of a buffer of their own. Vector offsets are aligned relative to
  // the end of the data and the size is a multiple of 8, so the Float64
  // vectors stay 8-byte aligned for zero-copy views.
  const bytes = b.asUint8Array();
  const out = new ArrayBuffer(bytes.length);
  new Uint8Array(out).set(bytes);
  return out;
}

export function decodeBatch(buf: ArrayBuffer): DecodedBatch {
  const bb = new flatbuffers.ByteBuffer(new Uint8Array(buf));
  if (!ScoreBatch.bufferHasIdentifier(bb)) throw new Error('not a scoring batch (identifier NRSB missing)');
  const sb = ScoreBatch.getRootAsScoreBatch(bb);
  const p = sb.params();
  if (!p) throw new Error('scoring batch without params');
  const count = sb.slotLength();
  const slot = sb.slotArray() ?? new Int32Array(0);
  const cpu = sb.cpuArray() ?? new Float64Array(0);
  const rss = sb.rssArray() ?? new Float64Array(0);
  const flags = sb.flagsArray() ?? new Uint8Array(0);
  if (cpu.length !== count || rss.length !== count || flags.length !== count) {
    throw new Error('scoring batch vectors differ in length');
  }
  return {
    cycle: sb.cycle(),
    nowMs: sb.nowMs(),
    params: {
      alpha: p.alpha(),
      zThreshold: p.zThreshold(),
      minSamples: p.minSamples(),
      relativeJump: p.relativeJump(),
      noiseFraction: p.noiseFraction(),
      minCpu: p.minCpu(),
      minRss: p.minRss(),
      newCpu: p.newCpu(),
      newRss: p.newRss(),
      holdMs: p.holdMs(),
    },
    input: { count, slot, cpu, rss, flags },
  };
}
