/**
 * build: the exported rows straight from the frame's columns into OTLP
 * protobuf (writer.ts, no object model per row), then the roll-ups, as a
 * list of pieces the cost stage concatenates once: a repeated protobuf field
 * is the concatenation of its elements, so the per-path requests are slices
 * of that one encoding. A received row is
 * exported as it came (its resource with nrdot's attributes added, its
 * scope, every point it carried with its time stamps), never rebuilt.
 */
import { type Frame, LANE_NAMES, LANE_NONE, LANE_SAMPLED } from '../../core/frame.js';
import type { IdentityTable } from '../../core/identity.js';
import type { Lane } from '../../core/lanes.js';
import * as w from '../../otlp/encode/pb-buf.js';
import { countDataPoints, dbl, nanosFromMs, type ResourceMetrics, str } from '../../otlp/model.js';
import { encodeRequest } from '../../otlp/proto.js';
import type { CycleContext, Stage } from '../../pipeline/stage.js';
import { ResourceAttr, TIERS } from '../../telemetry/names.js';
import type { CommandLinePrivacy } from '../../util/privacy.js';
import { TIER_IMPORTANCE } from '../classify/classifier.js';
import { OUT_REASON_MASK, REASONS } from '../score/score.js';
import { type MetricSet, tierMask } from './metrics.js';
import { groupResource } from './rollup.js';
import { type RowTags, writeProcess } from './writer.js';

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
    const source = b.source;
    const received: Uint8Array[] = [];
    w.reset();
    const heldPids: number[] = [];
    for (let i = 0; i < f.n; i++) {
      const lane = f.lane[i]!;
      if (lane === LANE_NONE && f.keep[i] === 1) heldPids.push(b.pid[i]!);
      if (lane === LANE_NONE) continue;
      const s = f.slot[i]!;
      const t = f.tier[i]!;
      const reason = f.anomaly[i]! & OUT_REASON_MASK;
      const tags = {
        tier: t,
        importance: TIER_IMPORTANCE[t]!,
        profile: ctx.profileName,
        anomaly: REASONS[reason]!,
        sampleRate: lane === LANE_SAMPLED ? f.facts.sampleRate : undefined,
      };
      const name = LANE_NAMES[lane]!;
      if (source) {
        const rm = tagged(source[i]!, tags, this.privacy, ids.cmdline[s]!, ids.exe[s]!);
        received.push(encodeRequest({ resourceMetrics: [rm] }));
        lanes.push(name);
        points.push(countDataPoints({ resourceMetrics: [rm] }));
        exportedPids?.set(b.pid[i]!, name);
        continue;
      }
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
        tierMask(this.metrics, t, ctx.profile),
        tags,
      );
      lanes.push(name);
      points.push(f.points[i]!);
      exportedPids?.set(b.pid[i]!, name);
    }
    const parts: Uint8Array[] = source ? received : w.pos > 0 ? [w.finish()] : [];
    if (f.groups.length > 0) {
      // received rows carry every metric; scanned ones only with scan.detail all
      const detail = this.rollupDetail || f.pushed;
      const rollups = f.groups.map((g) =>
        groupResource(g, b.host, ctx.profileName, b.scannedAtMs, this.metrics.base, detail, b.timeUnixNano),
      );
      parts.push(encodeRequest({ resourceMetrics: rollups }));
      for (const r of rollups) {
        lanes.push('standard');
        points.push(countDataPoints({ resourceMetrics: [r] }));
      }
    }
    f.built = { parts, lanes, points, exportedPids, heldPids };
  }
}

/**
 * privacy.command_line applied to a received resource, as to a scanned
 * process: the command line the receiver read from it (process.command_line,
 * or process.command_args joined; the identity table holds it) becomes what
 * the mode says (hashed, the executable, or left out), and
 * process.command_args, the same arguments as a list, is left out. Every
 * other attribute stays as received.
 */
function private_(
  own: ResourceMetrics['resource']['attributes'],
  privacy: CommandLinePrivacy,
  cmdline: string,
  exe: string,
) {
  const out = own.filter((a) => a.key !== COMMAND_ARGS && a.key !== ResourceAttr.commandLine);
  const v = cmdline === '' ? undefined : privacy.apply(cmdline, exe);
  if (v !== undefined) out.push(str(ResourceAttr.commandLine, v));
  return out;
}

const COMMAND_ARGS = 'process.command_args';

const OWN_KEYS = new Set<string>([
  ResourceAttr.tier,
  ResourceAttr.importance,
  ResourceAttr.profile,
  ResourceAttr.anomaly,
  ResourceAttr.sampleRate,
]);

/**
 * A received resource with nrdot's attributes added after its own (everything
 * else as it came). A resource that already carries them (it went through
 * another nrdot first) gets this decision instead: OTLP forbids repeated keys.
 */
function tagged(
  rm: ResourceMetrics,
  t: RowTags,
  privacy: CommandLinePrivacy,
  cmdline: string,
  exe: string,
): ResourceMetrics {
  let own = rm.resource.attributes;
  if (own.some((a) => OWN_KEYS.has(a.key))) own = own.filter((a) => !OWN_KEYS.has(a.key));
  if (privacy.mode !== 'keep') own = private_(own, privacy, cmdline, exe);
  const attributes = [
    ...own,
    str(ResourceAttr.tier, TIERS[t.tier]!),
    dbl(ResourceAttr.importance, t.importance),
    str(ResourceAttr.profile, t.profile),
  ];
  if (t.anomaly) attributes.push(str(ResourceAttr.anomaly, t.anomaly));
  if (t.sampleRate !== undefined) attributes.push(dbl(ResourceAttr.sampleRate, t.sampleRate));
  return { ...rm, resource: { ...rm.resource, attributes } };
}
