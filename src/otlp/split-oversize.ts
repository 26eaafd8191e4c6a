/**
 * Splitting one encoded ResourceMetrics that is larger than a request may be
 * (max_request_bytes) into several smaller ones, at the protobuf level:
 * every piece repeats the resource (and the scope, and the metric's name,
 * unit and type) and carries a share of the scope metrics, then of the
 * metrics, then of the data points. Nothing is decoded into objects or
 * encoded twice; unknown fields are kept as they are.
 *
 * What cannot be made small enough is refused and counted: a single data
 * point (with the resource, scope and metric around it) over the limit, or a
 * resource whose own attributes already exceed it.
 *
 *   ResourceMetrics  1 resource, 2 scope_metrics (repeated), 3 schema_url
 *   ScopeMetrics     1 scope, 2 metrics (repeated), 3 schema_url
 *   Metric           1 name, 2 description, 3 unit, 12 metadata, and one of
 *                    5 gauge, 7 sum, 9 histogram, 10 exponential_histogram, 11 summary
 *   Gauge/Sum/...    1 data_points (repeated), 2 temporality, 3 is_monotonic
 */

interface Field {
  no: number;
  /** the whole field: tag, length and value */
  raw: Uint8Array;
  /** the value of a length-delimited field */
  body?: Uint8Array;
}

const DATA_FIELDS = new Set([5, 7, 9, 10, 11]);

export function varintSize(n: number): number {
  let s = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    s++;
  }
  return s;
}

function readVarint(b: Uint8Array, pos: number): { v: number; pos: number } {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= b.length) throw new Error('truncated varint');
    const c = b[pos++]!;
    v += (c & 0x7f) * mul;
    if (c < 0x80) return { v, pos };
    mul *= 128;
  }
  throw new Error('varint too long');
}

/** The top-level fields of one message. */
function fields(b: Uint8Array): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < b.length) {
    const start = pos;
    const t = readVarint(b, pos);
    pos = t.pos;
    const no = Math.floor(t.v / 8);
    const wt = t.v % 8;
    let body: Uint8Array | undefined;
    if (wt === 0) pos = readVarint(b, pos).pos;
    else if (wt === 1) pos += 8;
    else if (wt === 5) pos += 4;
    else if (wt === 2) {
      const l = readVarint(b, pos);
      body = b.subarray(l.pos, l.pos + l.v);
      pos = l.pos + l.v;
    } else throw new Error(`unsupported wire type ${wt}`);
    if (pos > b.length) throw new Error('field runs past the end');
    out.push({ no, raw: b.subarray(start, pos), body: wt === 2 ? body : undefined });
  }
  return out;
}

/** Field `no` (length-delimited) holding `parts` concatenated. */
function lenField(no: number, parts: Uint8Array[]): Uint8Array {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const tag = no * 8 + 2;
  const out = new Uint8Array(varintSize(tag) + varintSize(len) + len);
  let o = writeVarint(out, 0, tag);
  o = writeVarint(out, o, len);
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function writeVarint(b: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    b[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  b[pos++] = v;
  return pos;
}

/** Bytes of field `no` holding `len` bytes. */
const fieldSize = (no: number, len: number) => varintSize(no * 8 + 2) + varintSize(len) + len;

const concat = (parts: Uint8Array[]): Uint8Array => {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

export interface OversizeSplit {
  /** ResourceMetrics bodies, each fitting the limit as a request entry */
  pieces: Uint8Array[];
  /** data points that could not be sent (alone over the limit) */
  refusedPoints: number;
  /** the resource could not be sent at all (its own attributes are over the limit) */
  refusedWhole: boolean;
}

/** Data points in an encoded ResourceMetrics body. */
export function countPoints(rmBody: Uint8Array): number {
  let n = 0;
  for (const sm of fields(rmBody)) {
    if (sm.no !== 2 || !sm.body) continue;
    for (const m of fields(sm.body)) {
      if (m.no !== 2 || !m.body) continue;
      for (const d of fields(m.body)) {
        if (!DATA_FIELDS.has(d.no) || !d.body) continue;
        for (const p of fields(d.body)) if (p.no === 1) n++;
      }
    }
  }
  return n;
}

/**
 * Split children (field `childNo` of a message whose other fields are
 * `header`) into messages whose body fits `budget` bytes. `splitChild`
 * breaks a child that is too big on its own into bodies of the child
 * message that fit a given budget (or refuses it).
 */
function pack(
  header: Uint8Array[],
  children: Uint8Array[],
  childNo: number,
  budget: number,
  splitChild: (body: Uint8Array, budget: number) => { parts: Uint8Array[]; refused: number },
): { bodies: Uint8Array[]; refused: number } {
  const headerLen = header.reduce((n, h) => n + h.length, 0);
  const room = budget - headerLen;
  let refused = 0;
  const bodies: Uint8Array[] = [];
  let cur: Uint8Array[] = [];
  let curLen = 0;
  const flush = () => {
    if (cur.length === 0) return;
    bodies.push(concat([...header, ...cur]));
    cur = [];
    curLen = 0;
  };
  const add = (childBody: Uint8Array) => {
    const f = lenField(childNo, [childBody]);
    if (curLen + f.length > room) flush();
    cur.push(f);
    curLen += f.length;
  };
  for (const c of children) {
    if (fieldSize(childNo, c.length) <= room) {
      add(c);
      continue;
    }
    // the child alone is too big: its pieces, each in its own share
    const maxChildBody = room - varintSize(childNo * 8 + 2) - varintSize(room);
    const s = splitChild(c, maxChildBody);
    refused += s.refused;
    for (const p of s.parts) add(p);
  }
  flush();
  return { bodies, refused };
}

function splitMetric(body: Uint8Array, budget: number): { parts: Uint8Array[]; refused: number } {
  const fs = fields(body);
  const data = fs.find((f) => DATA_FIELDS.has(f.no) && f.body);
  const pointsOf = (d: Field) => fields(d.body!).filter((p) => p.no === 1);
  if (!data) return { parts: [], refused: 0 };
  const header = fs.filter((f) => f !== data).map((f) => f.raw);
  const dfs = fields(data.body!);
  const dataHeader = dfs.filter((f) => f.no !== 1).map((f) => f.raw);
  const points = pointsOf(data).map((p) => p.body!);
  // each piece: metric header + data field { data header + points }
  const headerLen = header.reduce((n, h) => n + h.length, 0);
  const dataRoom = budget - headerLen - varintSize(data.no * 8 + 2) - varintSize(budget);
  const inner = pack(dataHeader, points, 1, dataRoom, () => ({ parts: [], refused: 1 }));
  return { parts: inner.bodies.map((d) => concat([...header, lenField(data.no, [d])])), refused: inner.refused };
}

function splitScope(body: Uint8Array, budget: number): { parts: Uint8Array[]; refused: number } {
  const fs = fields(body);
  const header = fs.filter((f) => f.no !== 2).map((f) => f.raw);
  const metrics = fs.filter((f) => f.no === 2 && f.body).map((f) => f.body!);
  const r = pack(header, metrics, 2, budget, splitMetric);
  return { parts: r.bodies, refused: r.refused };
}

/**
 * Split one ResourceMetrics body so that each piece, as an entry of a
 * request (tag, length, body), takes at most `limit` bytes.
 */
export function splitResource(rmBody: Uint8Array, limit: number): OversizeSplit {
  if (fieldSize(1, rmBody.length) <= limit) return { pieces: [rmBody], refusedPoints: 0, refusedWhole: false };
  const fs = fields(rmBody);
  const header = fs.filter((f) => f.no !== 2).map((f) => f.raw);
  const scopes = fs.filter((f) => f.no === 2 && f.body).map((f) => f.body!);
  const budget = limit - varintSize(1 * 8 + 2) - varintSize(limit);
  const headerLen = header.reduce((n, h) => n + h.length, 0);
  if (headerLen + 16 > budget) {
    return { pieces: [], refusedPoints: countPoints(rmBody), refusedWhole: true };
  }
  const r = pack(header, scopes, 2, budget, splitScope);
  return { pieces: r.bodies, refusedPoints: r.refused, refusedWhole: false };
}
