/**
 * Self-telemetry of received data (`--no-scan` behind a Collector): every
 * host has its own engine, so the agent's `nrdot.*` figures are the sum over
 * the hosts' latest batches (processes, points, bytes, drops), ratios are
 * recomputed from those sums, coverage is the lowest of any host, and the
 * cumulative counters keep what forgotten hosts had counted, so they never
 * go backwards.
 */
import type { SelfValues } from '../telemetry/self.js';

const ADDITIVE = [
  'processesSeen',
  'processesExported',
  'processesRolledUp',
  'datapointsExported',
  'datapointsBaseline',
  'datapointsBaselineSameSet',
  'droppedThreshold',
  'droppedTopN',
  'droppedMaxSeries',
  'droppedMemory',
  'costBytes',
  'costBaselineBytes',
  'costBaselineBytesSameSet',
  'costHourly',
  'anomaliesActive',
] as const satisfies readonly (keyof SelfValues)[];

interface Cumulative {
  promoted: { cpu: number; memory: number; new: number };
  vanished: number;
  denied: number;
  excluded: Record<string, number>;
}

function zero(): Cumulative {
  return { promoted: { cpu: 0, memory: 0, new: 0 }, vanished: 0, denied: 0, excluded: {} };
}

function addInto(c: Cumulative, v: SelfValues): void {
  c.promoted.cpu += v.anomaliesPromoted.cpu;
  c.promoted.memory += v.anomaliesPromoted.memory;
  c.promoted.new += v.anomaliesPromoted.new;
  c.vanished += v.scanVanished;
  c.denied += v.scanDenied;
  for (const [k, n] of Object.entries(v.scanExcluded)) c.excluded[k] = (c.excluded[k] ?? 0) + n;
}

export class ReceivedSelf {
  private readonly last = new Map<string, SelfValues>();
  /** what forgotten hosts had counted */
  private readonly retired = zero();
  private latest?: SelfValues;

  /** A host's batch was processed: its latest values. */
  update(host: string, v: SelfValues): SelfValues {
    this.last.set(host, v);
    this.latest = v;
    return this.total();
  }

  /** A host was forgotten (idle, ttl or evicted): its counters stay counted. */
  forget(host: string): void {
    const v = this.last.get(host);
    if (!v) return;
    addInto(this.retired, v);
    this.last.delete(host);
  }

  get hosts(): number {
    return this.last.size;
  }

  /** The agent's view: sums over the hosts' latest batches. */
  total(): SelfValues {
    const latest = this.latest;
    if (!latest) throw new Error('no received batch yet');
    const sum = { ...latest, pathPoints: { critical: 0, standard: 0, sampled: 0 } } as SelfValues;
    for (const k of ADDITIVE) sum[k] = 0;
    const c = structuredClone(this.retired);
    let coverageCritical = 1;
    let coverageAnomaly = 1;
    const visibility = { cpu: 1, memory: 1 };
    for (const v of this.last.values()) {
      for (const k of ADDITIVE) sum[k] += v[k];
      sum.pathPoints.critical += v.pathPoints.critical;
      sum.pathPoints.standard += v.pathPoints.standard;
      sum.pathPoints.sampled += v.pathPoints.sampled;
      coverageCritical = Math.min(coverageCritical, v.coverageCritical);
      coverageAnomaly = Math.min(coverageAnomaly, v.coverageAnomaly);
      visibility.cpu = Math.min(visibility.cpu, v.visibility.cpu);
      visibility.memory = Math.min(visibility.memory, v.visibility.memory);
      addInto(c, v);
    }
    sum.coverageCritical = coverageCritical;
    sum.coverageAnomaly = coverageAnomaly;
    sum.visibility = visibility;
    sum.reductionRatio = sum.datapointsBaseline > 0 ? 1 - sum.datapointsExported / sum.datapointsBaseline : 0;
    sum.reductionRatioSameSet =
      sum.datapointsBaselineSameSet > 0 ? 1 - sum.datapointsExported / sum.datapointsBaselineSameSet : 0;
    sum.anomaliesPromoted = c.promoted;
    sum.scanVanished = c.vanished;
    sum.scanDenied = c.denied;
    sum.scanExcluded = { ...latest.scanExcluded, ...c.excluded } as SelfValues['scanExcluded'];
    return sum;
  }
}
