/**
 * Protobuf bytes of a HostmetricsSource's requests, fast: the request is
 * written once as a template, and each call copies it and patches the
 * fixed-width fields that change (the time of every point, every value:
 * doubles and sfixed64 integers are 8 bytes whatever their value). The result
 * decodes to exactly `source.request(nowMs)`; `nrdot loadgen` uses it so a
 * load generator for thousands of processes is not bounded by encoding.
 */
import { nanosFromMs, TEMPORALITY_CUMULATIVE } from '../otlp/model.js';
import {
  type HostmetricsSource,
  LAYOUT,
  POINTS_PER_PROCESS,
  PROCESS_SCRAPER_SCOPE,
  PROCESS_SCRAPER_VERSION,
  processAttributes,
} from './hostmetrics.js';

/** A message under construction: bytes plus the offsets of fields to patch, relative to its start. */
class Msg {
  readonly bytes: number[] = [];
  /** [offset, slot]: slot -1 = time, k >= 0 = value k of the process */
  readonly patches: [number, number][] = [];

  varint(v: number): this {
    let n = v;
    while (n >= 0x80) {
      this.bytes.push((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.bytes.push(n);
    return this;
  }

  tag(field: number, wire: number): this {
    return this.varint(field * 8 + wire);
  }

  string(field: number, s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.tag(field, 2).varint(b.length);
    for (const x of b) this.bytes.push(x);
    return this;
  }

  /** 8 placeholder bytes to be patched with `slot`. */
  fixed(field: number, slot: number): this {
    this.tag(field, 1);
    this.patches.push([this.bytes.length, slot]);
    for (let i = 0; i < 8; i++) this.bytes.push(0);
    return this;
  }

  fixedWords(field: number, lo: number, hi: number): this {
    this.tag(field, 1);
    for (const w of [lo, hi]) for (let i = 0; i < 4; i++) this.bytes.push((w >>> (8 * i)) & 0xff);
    return this;
  }

  message(field: number, child: Msg): this {
    this.tag(field, 2).varint(child.bytes.length);
    const base = this.bytes.length;
    for (const x of child.bytes) this.bytes.push(x);
    for (const [off, slot] of child.patches) this.patches.push([base + off, slot]);
    return this;
  }
}

function words(ns: string): [number, number] {
  const v = BigInt(ns);
  return [Number(v & 0xffffffffn), Number(v >> 32n)];
}

function anyValueString(s: string): Msg {
  return new Msg().string(1, s);
}

function keyValue(key: string, value: Msg): Msg {
  return new Msg().string(1, key).message(2, value);
}

export class HostmetricsEncoder {
  private readonly template: Uint8Array;
  private readonly timeOffsets: Int32Array;
  /** triples: offset, process index, value index */
  private readonly valueOffsets: Int32Array;
  private readonly valueIsInt: Uint8Array;
  private readonly scratch = new Float64Array(POINTS_PER_PROCESS);

  constructor(private readonly source: HostmetricsSource) {
    const req = new Msg();
    const isInt: number[] = [];
    for (const spec of LAYOUT) for (const pt of spec.points) isInt.push(pt.int ? 1 : 0);
    const valueOffs: number[] = [];
    const timeOffs: number[] = [];
    source.processes.forEach((p, i) => {
      const [slo, shi] = words(nanosFromMs(p.startEpochMs));
      const scope = new Msg().string(1, PROCESS_SCRAPER_SCOPE).string(2, PROCESS_SCRAPER_VERSION);
      const sm = new Msg().message(1, scope);
      let k = 0;
      for (const spec of LAYOUT) {
        const data = new Msg();
        for (const pt of spec.points) {
          const point = new Msg()
            .fixedWords(2, slo, shi)
            .fixed(3, -1)
            .fixed(pt.int ? 6 : 4, k++);
          if (pt.attr) point.message(7, keyValue(pt.attr[0], anyValueString(pt.attr[1])));
          data.message(1, point);
        }
        if (spec.kind !== 'gauge') {
          data.tag(2, 0).varint(TEMPORALITY_CUMULATIVE);
          data.tag(3, 0).varint(spec.kind === 'monotonic' ? 1 : 0);
        }
        const metric = new Msg().string(1, spec.name).string(2, '').string(3, spec.unit);
        metric.message(spec.kind === 'gauge' ? 5 : 7, data);
        sm.message(2, metric);
      }
      const resource = new Msg();
      for (const kv of processAttributes(p, source.hostName)) {
        const v = kv.value as { stringValue?: string; intValue?: string };
        const value =
          v.intValue !== undefined
            ? new Msg().tag(3, 0).varint(Number(v.intValue))
            : anyValueString(v.stringValue ?? '');
        resource.message(1, keyValue(kv.key, value));
      }
      const rm = new Msg().message(1, resource).message(2, sm);
      req.message(1, rm);
      const shift = req.bytes.length - rm.bytes.length; // where rm's bytes start in the request
      for (const [off, slot] of rm.patches) {
        if (slot === -1) timeOffs.push(shift + off);
        else valueOffs.push(shift + off, i, slot);
      }
    });
    this.template = Uint8Array.from(req.bytes);
    this.timeOffsets = Int32Array.from(timeOffs);
    this.valueOffsets = Int32Array.from(valueOffs);
    this.valueIsInt = Uint8Array.from(isInt);
  }

  /** Protobuf bytes of `source.request(nowMs)`. */
  encode(nowMs: number): Uint8Array {
    const out = new Uint8Array(this.template);
    const view = new DataView(out.buffer);
    const [tlo, thi] = words(nanosFromMs(nowMs));
    for (const off of this.timeOffsets) {
      view.setUint32(off, tlo, true);
      view.setUint32(off + 4, thi, true);
    }
    const v = this.scratch;
    let proc = -1;
    const offs = this.valueOffsets;
    for (let j = 0; j < offs.length; j += 3) {
      const off = offs[j]!;
      const i = offs[j + 1]!;
      const k = offs[j + 2]!;
      if (i !== proc) {
        this.source.values(i, nowMs, v);
        proc = i;
      }
      if (this.valueIsInt[k]) {
        const x = v[k]!; // a non-negative whole number
        view.setUint32(off, x % 4294967296, true);
        view.setUint32(off + 4, Math.floor(x / 4294967296), true);
      } else view.setFloat64(off, v[k]!, true);
    }
    return out;
  }
}
