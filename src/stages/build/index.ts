/**
 * build: the exported rows straight from the frame's columns into OTLP
 * protobuf (writer.ts, no object model per row), then the roll-ups, in one
 * buffer: a repeated protobuf field is the concatenation of its elements, so
 * the per-path requests are slices of this one encoding.
 */
import { type Frame, LANE_NAMES, LANE_NONE, LANE_SAMPLED } from '../../core/frame.js';
import type { IdentityTable } from '../../core/identity.js';
import type { Lane } from '../../core/lanes.js';
import * as w from '../../otlp/encode/pb-buf.js';
import { countDataPoints, nanosFromMs } from '../../otlp/model.js';
import { encodeRequest } from '../../otlp/proto.js';
import type { CycleContext, Stage } from '../../pipeline/stage.js';
import type { CommandLinePrivacy } from '../../util/privacy.js';
import { TIER_IMPORTANCE } from '../classify/classifier.js';
import { OUT_REASON_MASK, REASONS } from '../score/score.js';
import type { MetricSet } from './metrics.js';
import { groupResource } from './rollup.js';
import { writeProcess } from './writer.js';

export class BuildStage implements Stage {
  readonly name = 'build';

  constructor(
    private readonly ids: IdentityTable,
    private readonly metrics: MetricSet,
    /** every roll-up member's io, fds and context switches were read (scan.detail: all) */
    private readonly rollupDetail: boolean,
    /** what process.command_line carries (keep, executable, hash or drop) */
    private readonly privacy: CommandLinePrivacy,
  ) {}

  process(f: Frame, ctx: CycleContext): void {
    const b = f.batch;
    const ids = this.ids;
    const timeNs = nanosFromMs(b.scannedAtMs);
    const lanes: Lane[] = [];
    const points: number[] = [];
    const exportedPids = f.pushed ? new Map<number, Lane>() : undefined;
    w.reset();
    for (let i = 0; i < f.n; i++) {
      const lane = f.lane[i]!;
      if (lane === LANE_NONE) continue;
      const s = f.slot[i]!;
      const t = f.tier[i]!;
      const reason = f.anomaly[i]! & OUT_REASON_MASK;
      writeProcess(
        b,
        i,
        {
          name: ids.name[s]!,
          exe: ids.exe[s]!,
          // '' leaves the attribute out
          cmdline: this.privacy.apply(ids.cmdline[s]!, ids.exe[s]!) ?? '',
          owner: ids.owner[s]!,
        },
        f.cpuState,
        timeNs,
        this.metrics.tier[t]!,
        {
          tier: t,
          importance: TIER_IMPORTANCE[t]!,
          profile: ctx.profileName,
          anomaly: REASONS[reason]!,
          sampleRate: lane === LANE_SAMPLED ? f.facts.sampleRate : undefined,
        },
      );
      const name = LANE_NAMES[lane]!;
      lanes.push(name);
      points.push(f.points[i]!);
      exportedPids?.set(b.pid[i]!, name);
    }
    let protobuf = w.finish();
    if (f.groups.length > 0) {
      // received rows carry every metric; scanned ones only with scan.detail all
      const detail = this.rollupDetail || f.pushed;
      const rollups = f.groups.map((g) =>
        groupResource(g, b.host, ctx.profileName, b.scannedAtMs, this.metrics.base, detail),
      );
      protobuf = Buffer.concat([protobuf, encodeRequest({ resourceMetrics: rollups })]);
      for (const r of rollups) {
        lanes.push('standard');
        points.push(countDataPoints({ resourceMetrics: [r] }));
      }
    }
    f.built = { protobuf, lanes, points, exportedPids };
  }
}
