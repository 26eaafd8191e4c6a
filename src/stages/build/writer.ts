/**
 * A process row straight from the frame's columns into OTLP protobuf: one
 * `ResourceMetrics` entry of an `ExportMetricsServiceRequest`, in the
 * hostmetrics process scraper's shape, with no object model in between.
 *
 * The bytes are exactly what the model path writes for `processResource()`
 * (model.ts) through the protobuf encoder (test/stages/build/writer.test.ts
 * checks that on seeded random rows), field order and presence included:
 * cumulative sums whose start time is the process start, gauges for
 * instantaneous values, and no point for a value that is unknown.
 */
import * as w from '../../otlp/encode/pb-buf.js';
import { nanosFromSec } from '../../otlp/model.js';
import { type ProcessBatch, startEpochSec, UNKNOWN } from '../../sources/batch.js';
import { ProcessMetric, ResourceAttr, TIERS } from '../../telemetry/names.js';
import { DESCRIPTIONS, M } from './metrics.js';
import { SCOPE } from './scope.js';

/** Length-prefix guess sites (pb-buf keeps one guess per site). */
const S_RM = 20;
const S_RES = 21;
const S_KV = 22;
const S_VAL = 23;
const S_SM = 24;
const S_SCOPE = 25;
const S_METRIC = 26;
const S_DATA = 27;
const S_POINT = 28;
const S_PATTR = 29;

const TEMPORALITY_CUMULATIVE = 2;

/** The strings of a process identity (the identity table's, at the row's slot). */
export interface RowStrings {
  name: string;
  exe: string;
  cmdline: string;
  owner: string;
}

/** nrdot's own resource attributes of an exported process. */
export interface RowTags {
  tier: number;
  importance: number;
  profile: string;
  /** why scoring promoted it (cpu, memory, new), '' when it did not */
  anomaly: string;
  /** sampled path rate; undefined when not sampled */
  sampleRate: number | undefined;
}

/** A 64-bit signed integer value into w.lo / w.hi (a whole double, as String(Math.trunc(v)) would parse). */
function int64(v: number): void {
  const t = Math.trunc(v);
  if (Number.isSafeInteger(t)) w.words64(t, true);
  else w.words64(String(t), true);
}

function strAttr(key: string, v: string): void {
  const at = w.open(0x0a, S_KV);
  w.stringCached(0x0a, key);
  const val = w.open(0x12, S_VAL);
  w.string(0x0a, v);
  w.close(val, S_VAL);
  w.close(at, S_KV);
}

function shortStrAttr(key: string, v: string): void {
  const at = w.open(0x0a, S_KV);
  w.stringCached(0x0a, key);
  const val = w.open(0x12, S_VAL);
  w.stringCached(0x0a, v);
  w.close(val, S_VAL);
  w.close(at, S_KV);
}

function intAttr(key: string, v: number): void {
  const at = w.open(0x0a, S_KV);
  w.stringCached(0x0a, key);
  const val = w.open(0x12, S_VAL);
  int64(v);
  w.ensure(11);
  w.byte(0x18);
  w.varint64(w.lo, w.hi);
  w.close(val, S_VAL);
  w.close(at, S_KV);
}

function dblAttr(key: string, v: number): void {
  const at = w.open(0x0a, S_KV);
  w.stringCached(0x0a, key);
  const val = w.open(0x12, S_VAL);
  w.ensure(9);
  w.byte(0x21);
  w.double(v);
  w.close(val, S_VAL);
  w.close(at, S_KV);
}

/** Per-row time stamps, as 64-bit words. */
let tLo = 0;
let tHi = 0;
let sLo = 0;
let sHi = 0;
/** the cycle time whose words tLo/tHi hold: parsed once per cycle, not per row */
let tFor: string | undefined;

const TWO_32 = 4294967296;
/** below this, whole seconds * 1953125 is an exact double (and the nanoseconds fit 64 bits) */
const WHOLE_LIMIT = Math.floor(2 ** 53 / 1953125);

/**
 * `nanosFromSec(sec)` as two 32-bit words into sLo / sHi, exactly, without
 * BigInt or a decimal string: whole * 10^9 = (whole * 1953125) * 2^9, and
 * whole * 1953125 is an exact double for any time up to year 2116.
 */
export function startWords(sec: number): { lo: number; hi: number } {
  setStart(sec);
  return { lo: sLo, hi: sHi };
}

function setStart(sec: number): void {
  const whole = Math.floor(sec);
  if (!(whole >= 0 && whole < WHOLE_LIMIT)) {
    // out of the fast range (or not a number): the exact decimal path, with its errors
    w.words64(nanosFromSec(sec), false);
    sLo = w.lo;
    sHi = w.hi;
    return;
  }
  const frac = Math.round((sec - whole) * 1e9);
  const m = whole * 1953125;
  const mHi = Math.floor(m / TWO_32);
  const low = (m - mHi * TWO_32) * 512; // < 2^41: exact
  const lowLo = low % TWO_32;
  let lo = lowLo + frac; // frac <= 10^9 < 2^30
  let hi = mHi * 512 + (low - lowLo) / TWO_32;
  if (lo >= TWO_32) {
    lo -= TWO_32;
    hi++;
  }
  sLo = lo;
  sHi = hi;
}

/** One data point: [start], time, value, [one string attribute]. */
function point(withStart: boolean, isInt: boolean, v: number, attrKey?: string, attrVal?: string): void {
  const at = w.open(0x0a, S_POINT);
  w.ensure(40);
  if (withStart) {
    w.byte(0x11);
    w.fixed64(sLo, sHi);
  }
  w.byte(0x19);
  w.fixed64(tLo, tHi);
  if (!isInt) {
    w.byte(0x21);
    w.double(v);
  } else {
    int64(v);
    w.ensure(9);
    w.byte(0x31);
    w.fixed64(w.lo, w.hi);
  }
  if (attrKey !== undefined) {
    const a = w.open(0x3a, S_PATTR);
    w.stringCached(0x0a, attrKey);
    const val = w.open(0x12, S_VAL);
    w.stringCached(0x0a, attrVal!);
    w.close(val, S_VAL);
    w.close(a, S_PATTR);
  }
  w.close(at, S_POINT);
}

function metricHead(name: string, description: string, unit: string): number {
  const at = w.open(0x12, S_METRIC);
  w.stringCached(0x0a, name);
  w.stringCached(0x12, description);
  w.stringCached(0x1a, unit);
  return at;
}

function sumTail(data: number, monotonic: boolean, metric: number): void {
  w.ensure(6);
  w.byte(0x10);
  w.varint(TEMPORALITY_CUMULATIVE);
  w.byte(0x18);
  w.byte(monotonic ? 1 : 0);
  w.close(data, S_DATA);
  w.close(metric, S_METRIC);
}

/** A cumulative sum with one point per (attribute value, value) pair. */
function sumPoints(
  name: string,
  unit: string,
  description: string,
  monotonic: boolean,
  isInt: boolean,
  attrKey: string | undefined,
  vals: readonly (string | undefined)[],
  values: readonly number[],
): void {
  const m = metricHead(name, description, unit);
  const d = w.open(0x3a, S_DATA);
  for (let k = 0; k < values.length; k++) point(true, isInt, values[k]!, attrKey, vals[k]);
  sumTail(d, monotonic, m);
}

function sumInt(name: string, unit: string, description: string, v: number): void {
  const m = metricHead(name, description, unit);
  const d = w.open(0x3a, S_DATA);
  point(true, true, v);
  sumTail(d, false, m);
}

/** A gauge with one point per (attribute value, value) pair. */
function gaugePoints(
  name: string,
  unit: string,
  description: string,
  attrKey: string,
  vals: readonly string[],
  values: readonly number[],
): void {
  const m = metricHead(name, description, unit);
  const d = w.open(0x2a, S_DATA);
  for (let k = 0; k < values.length; k++) point(false, false, values[k]!, attrKey, vals[k]);
  w.close(d, S_DATA);
  w.close(m, S_METRIC);
}

function gaugeDouble(name: string, unit: string, description: string, v: number): void {
  const m = metricHead(name, description, unit);
  const d = w.open(0x2a, S_DATA);
  point(false, false, v);
  w.close(d, S_DATA);
  w.close(m, S_METRIC);
}

const STATES = ['user', 'system', 'wait'];
const DIRS = ['read', 'write'];
const FAULTS = ['major', 'minor'];
const SWITCHES = ['voluntary', 'involuntary'];

/** Values row i may lack, as bits: a metric whose value is unknown has no point. */
export const K_UTIL = 1; // CPU utilization (NaN on a process's first cycle)
export const K_MEMUTIL = 2; // memory utilization (needs MemTotal)
export const K_IO = 4;
export const K_THREADS = 8;
export const K_FDS = 16;
export const K_SWITCHES = 32;
export const K_RSS = 64;
export const K_VSIZE = 128;
export const K_FAULTS = 256;
/** One more than the largest `knownValues` result (a size cache key is mask * KNOWN_SPAN + known). */
export const KNOWN_SPAN = 512;

/**
 * The CPU utilization of every row (user, system, wait per row: the rates
 * stage's `cpuState`), or null for none: utilization unknown for every row
 * (a baseline that sizes a resource without it).
 */
export type CpuState = Float64Array | null;

/**
 * Which of row i's optional values are known (K_* bits). A count column is
 * known when it is not UNKNOWN: the sources leave only exact counts in the
 * batch (`countOrUnknown` in src/sources/batch.ts).
 */
export function knownValues(b: ProcessBatch, i: number, cpuState: CpuState): number {
  let k = 0;
  if (cpuState !== null && !Number.isNaN(cpuState[i * 3]!)) k |= K_UTIL;
  const rss = b.rssBytes[i]! >= 0;
  if (rss) k |= K_RSS;
  if (rss && b.host.memTotalBytes > 0) k |= K_MEMUTIL;
  if (b.vsizeBytes[i]! >= 0) k |= K_VSIZE;
  if (b.readBytes[i]! >= 0 && b.writeBytes[i]! >= 0) k |= K_IO;
  if (b.threads[i]! !== UNKNOWN) k |= K_THREADS;
  if (b.fds[i]! !== UNKNOWN) k |= K_FDS;
  if (b.minFaults[i]! >= 0 && b.majFaults[i]! >= 0) k |= K_FAULTS;
  if (b.volCtx[i]! >= 0 && b.involCtx[i]! >= 0) k |= K_SWITCHES;
  return k;
}

/**
 * Data points row `i` has with the metrics of `mask`: an unknown value has
 * no point (utilization on a process's first cycle, io or fds that could not
 * be read, memory utilization without MemTotal).
 */
export function processPoints(b: ProcessBatch, i: number, mask: number, cpuState: CpuState): number {
  const k = knownValues(b, i, cpuState);
  let n = 0;
  if (mask & M['process.cpu.time']) n += 3;
  if (mask & M['process.cpu.utilization'] && k & K_UTIL) n += 3;
  if (mask & M['process.memory.usage'] && k & K_RSS) n += 1;
  if (mask & M['process.memory.virtual'] && k & K_VSIZE) n += 1;
  if (mask & M['process.memory.utilization'] && k & K_MEMUTIL) n += 1;
  if (mask & M['process.disk.io'] && k & K_IO) n += 2;
  if (mask & M['process.threads'] && k & K_THREADS) n += 1;
  if (mask & M['process.open_file_descriptors'] && k & K_FDS) n += 1;
  if (mask & M['process.paging.faults'] && k & K_FAULTS) n += 2;
  if (mask & M['process.context_switches'] && k & K_SWITCHES) n += 2;
  if (mask & M['process.uptime']) n += 1;
  return n;
}

/**
 * Append row `i` as one ResourceMetrics entry to the protobuf scratch
 * (pb-buf), with the metrics of `mask` whose values are known. `cpuState`:
 * per row, user/system/wait CPU as fractions of one core since the last
 * cycle (NaN on a process's first cycle). `timeNs` is the cycle's time stamp
 * (decimal nanoseconds), parsed once for consecutive rows of the same
 * cycle; the start time's words are computed without BigInt. `tags` adds
 * nrdot's attributes (absent for the baselines' view).
 */
export function writeProcess(
  b: ProcessBatch,
  i: number,
  id: RowStrings,
  cpuState: Float64Array,
  timeNs: string,
  mask: number,
  tags?: RowTags,
): void {
  if (timeNs !== tFor) {
    w.words64(timeNs, false);
    tLo = w.lo;
    tHi = w.hi;
    tFor = timeNs;
  }
  setStart(startEpochSec(b, i));

  const rm = w.open(0x0a, S_RM);
  writeResource(b, i, id, tags);
  writeMetrics(b, i, cpuState, mask);
  w.close(rm, S_RM);
}

/** Row i's `resource` message (field 1 of its ResourceMetrics entry): its attributes, and nrdot's with `tags`. */
export function writeResource(b: ProcessBatch, i: number, id: RowStrings, tags?: RowTags): void {
  const res = w.open(0x0a, S_RES);
  intAttr(ResourceAttr.pid, b.pid[i]!);
  intAttr(ResourceAttr.parentPid, b.ppid[i]!);
  strAttr(ResourceAttr.executableName, id.name);
  if (id.exe) strAttr(ResourceAttr.executablePath, id.exe);
  if (id.cmdline) strAttr(ResourceAttr.commandLine, id.cmdline);
  if (id.owner) strAttr(ResourceAttr.owner, id.owner);
  shortStrAttr(ResourceAttr.hostName, b.host.hostname);
  if (tags) {
    shortStrAttr(ResourceAttr.tier, TIERS[tags.tier]!);
    dblAttr(ResourceAttr.importance, tags.importance);
    shortStrAttr(ResourceAttr.profile, tags.profile);
    if (tags.anomaly) shortStrAttr(ResourceAttr.anomaly, tags.anomaly);
    if (tags.sampleRate !== undefined) dblAttr(ResourceAttr.sampleRate, tags.sampleRate);
  }
  w.close(res, S_RES);
}

/**
 * Row i's `scope_metrics` message (field 2 of its ResourceMetrics entry):
 * the metrics of `mask` whose values are known. Its size depends on `mask`
 * and `knownValues` only: every value is fixed-width.
 */
export function writeMetrics(b: ProcessBatch, i: number, cpuState: CpuState, mask: number): void {
  const k = knownValues(b, i, cpuState);
  const sm = w.open(0x12, S_SM);
  const sc = w.open(0x0a, S_SCOPE);
  w.stringCached(0x0a, SCOPE.name);
  w.stringCached(0x12, SCOPE.version);
  w.close(sc, S_SCOPE);

  const cpus = b.host.cpuCount;
  if (mask & M['process.cpu.time']) {
    sumPoints(ProcessMetric.cpuTime, 's', DESCRIPTIONS.cpuTime, true, false, 'state', STATES, [
      b.utimeSec[i]!,
      b.stimeSec[i]!,
      b.iowaitSec[i]!,
    ]);
  }
  if (mask & M['process.cpu.utilization'] && k & K_UTIL) {
    gaugePoints(ProcessMetric.cpuUtilization, '1', DESCRIPTIONS.cpuUtilization, 'state', STATES, [
      cpuState![i * 3]! / cpus,
      cpuState![i * 3 + 1]! / cpus,
      cpuState![i * 3 + 2]! / cpus,
    ]);
  }
  if (mask & M['process.memory.usage'] && k & K_RSS) {
    sumInt(ProcessMetric.memoryUsage, 'By', DESCRIPTIONS.memoryUsage, b.rssBytes[i]!);
  }
  if (mask & M['process.memory.virtual'] && k & K_VSIZE) {
    sumInt(ProcessMetric.memoryVirtual, 'By', DESCRIPTIONS.memoryVirtual, b.vsizeBytes[i]!);
  }
  if (mask & M['process.memory.utilization'] && k & K_MEMUTIL) {
    gaugeDouble(
      ProcessMetric.memoryUtilization,
      '1',
      DESCRIPTIONS.memoryUtilization,
      b.rssBytes[i]! / b.host.memTotalBytes,
    );
  }
  if (mask & M['process.disk.io'] && k & K_IO) {
    sumPoints(ProcessMetric.diskIo, 'By', DESCRIPTIONS.diskIo, true, true, 'direction', DIRS, [
      b.readBytes[i]!,
      b.writeBytes[i]!,
    ]);
  }
  if (mask & M['process.threads'] && k & K_THREADS) {
    sumInt(ProcessMetric.threads, '{threads}', DESCRIPTIONS.threads, b.threads[i]!);
  }
  if (mask & M['process.open_file_descriptors'] && k & K_FDS) {
    sumInt(ProcessMetric.openFds, '{count}', DESCRIPTIONS.openFds, b.fds[i]!);
  }
  if (mask & M['process.paging.faults'] && k & K_FAULTS) {
    sumPoints(ProcessMetric.pagingFaults, '{faults}', DESCRIPTIONS.pagingFaults, true, true, 'type', FAULTS, [
      b.majFaults[i]!,
      b.minFaults[i]!,
    ]);
  }
  if (mask & M['process.context_switches'] && k & K_SWITCHES) {
    sumPoints(ProcessMetric.contextSwitches, '{count}', DESCRIPTIONS.contextSwitches, true, true, 'type', SWITCHES, [
      b.volCtx[i]!,
      b.involCtx[i]!,
    ]);
  }
  if (mask & M['process.uptime']) {
    gaugeDouble(
      ProcessMetric.uptime,
      's',
      DESCRIPTIONS.uptime,
      Math.max(0, b.host.uptimeSec - b.startTicks[i]! / b.host.clkTck),
    );
  }

  w.close(sm, S_SM);
}
