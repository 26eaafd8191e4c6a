/**
 * baseline: what exporting every process would cost, two ways, and what each
 * row costs when it is exported.
 *
 * - `hostmetrics`: the OpenTelemetry Collector's process scraper with its
 *   default metrics (cpu.time, memory.usage, memory.virtual, disk.io: 7 data
 *   points) for every present process: what users run today, and the figure
 *   reductions are counted against. Its bytes are the same resource without
 *   nrdot's attributes, with those 7 points.
 * - `sameSet`: every present process with the metrics nrdot has enabled for
 *   its tier, as read (an unknown value has no point).
 *
 * For received data both baselines are what the sender exports today: the
 * points and encoded bytes of the resources as they came.
 *
 * Values are fixed-width in protobuf, so a resource's size changes only when
 * its set of points (or its strings) does: each size is measured once per
 * identity from a full read and summed every cycle; a row read `stat`-only
 * costs what its identity measured last. Measuring writes only the
 * resource's attributes; the metrics' size comes from src/stages/build/size.ts.
 */
import type { Frame } from '../../core/frame.js';
import type { Column, IdentityTable } from '../../core/identity.js';
import { countDataPoints } from '../../otlp/model.js';
import { encodeRequest } from '../../otlp/proto.js';
import type { CycleContext, Stage } from '../../pipeline/stage.js';
import { FLAG_DETAIL, UNKNOWN } from '../../sources/batch.js';
import { HOSTMETRICS_DEFAULT, type MetricSet, maskPoints, tierMask } from '../build/metrics.js';
import { entrySize, metricsSize, resourceSize } from '../build/size.js';
import { processPoints, type RowStrings } from '../build/writer.js';

const HOSTMETRICS_POINTS = maskPoints(HOSTMETRICS_DEFAULT);

export class BaselineStage implements Stage {
  readonly name = 'baseline';
  /** sameSet: points and bytes of the identity's last full read */
  private readonly points: Column<Uint8Array>;
  private readonly bytes: Column<Int32Array>;
  /** hostmetrics: bytes of the identity's resource (0 = not measured yet) */
  private readonly hmBytes: Column<Int32Array>;

  constructor(
    private readonly ids: IdentityTable,
    private readonly metrics: MetricSet,
  ) {
    this.points = ids.u8('baseline.points');
    this.bytes = ids.i32('baseline.bytes');
    this.hmBytes = ids.i32('baseline.hostmetrics_bytes');
  }

  private strings(s: number): RowStrings {
    const ids = this.ids;
    return { name: ids.name[s]!, exe: ids.exe[s]!, cmdline: ids.cmdline[s]!, owner: ids.owner[s]! };
  }

  process(f: Frame, ctx?: CycleContext): void {
    const b = f.batch;
    const points = this.points.data;
    const bytes = this.bytes.data;
    const hm = this.hmBytes.data;
    let samePoints = 0;
    let sameBytes = 0;
    let hmBytes = 0;
    let hmPoints = 0;
    const source = b.source;
    for (let i = 0; i < f.n; i++) {
      const s = f.slot[i]!;
      const mask = tierMask(this.metrics, f.tier[i]!, ctx?.profile ?? {});
      if (source) {
        // received data: what the sender exports today is the baseline, both ways
        const rm = source[i]!;
        const pts = countDataPoints({ resourceMetrics: [rm] });
        f.points[i] = Math.min(255, pts);
        f.series[i] = Math.min(255, pts);
        if (points[s] !== Math.min(255, pts) || bytes[s] === 0) {
          bytes[s] = encodeRequest({ resourceMetrics: [rm] }).length;
          points[s] = Math.min(255, pts);
        }
        samePoints += pts;
        sameBytes += bytes[s]!;
        hmPoints += pts;
        hmBytes += bytes[s]!;
        continue;
      }
      const pts = processPoints(b, i, mask, f.cpuState);
      f.points[i] = pts;
      // a row read without detail still costs its full set once it is exported
      f.series[i] = Math.max(pts, points[s]!);
      const detail = (b.flags[i]! & FLAG_DETAIL) !== 0;
      // the resource (the same in both baselines, without nrdot's attributes) is measured at most once
      let res = -1;
      if (detail && points[s] !== pts) {
        res = resourceSize(b, i, this.strings(s));
        bytes[s] = entrySize(res, metricsSize(b, i, f.cpuState, mask));
        points[s] = pts;
      }
      if (hm[s] === 0 || f.named[i] === 1) {
        // the scraper's default set with every value present (it runs as root and reads io)
        if (res < 0) res = resourceSize(b, i, this.strings(s));
        const r = b.readBytes[i]!;
        const wr = b.writeBytes[i]!;
        if (r === UNKNOWN || wr === UNKNOWN) {
          b.readBytes[i] = 0; // values are fixed-width: any value has the same size
          b.writeBytes[i] = 0;
        }
        hm[s] = entrySize(res, metricsSize(b, i, null, HOSTMETRICS_DEFAULT));
        b.readBytes[i] = r;
        b.writeBytes[i] = wr;
      }
      samePoints += points[s]!;
      sameBytes += bytes[s]!;
      hmBytes += hm[s]!;
      hmPoints += HOSTMETRICS_POINTS;
    }
    const bl = f.facts.baseline;
    bl.hostmetrics.points = hmPoints;
    bl.hostmetrics.bytes = hmBytes;
    bl.sameSet.points = samePoints;
    bl.sameSet.bytes = sameBytes;
  }
}
