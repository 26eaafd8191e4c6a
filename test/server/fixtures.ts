/** One cycle of self-telemetry values, as the engine reports them. */
import type { SelfValues } from '../../src/telemetry/self.js';

export function selfValues(over: Partial<SelfValues> = {}): SelfValues {
  return {
    processesSeen: 412,
    processesExported: 37,
    processesRolledUp: 375,
    datapointsExported: 520,
    datapointsBaseline: 6100,
    datapointsBaselineSameSet: 12200,
    droppedThreshold: 4000,
    droppedTopN: 1200,
    droppedMaxSeries: 380,
    costBytes: 81234,
    costBaselineBytes: 903211,
    costBaselineBytesSameSet: 1806422,
    costHourly: 0.0123,
    reductionRatio: 0.91,
    reductionRatioSameSet: 0.955,
    coverageCritical: 1,
    coverageAnomaly: 1,
    anomaliesPromoted: { cpu: 3, memory: 1, new: 7 },
    anomaliesActive: 2,
    scanSeconds: 0.0123,
    cycleSeconds: 0.0456,
    scanVanished: 5,
    scanDenied: 12,
    scanExcluded: { max_processes: 0, name: 3, cpu: 0, rss: 5, age: 0 },
    exportErrors: { 'otlp:http://collector:4318': 2 },
    droppedMemory: 0,
    memoryTier: 0,
    memoryUsage: 0.31,
    pathPoints: { critical: 200, standard: 300, sampled: 20 },
    samplingRate: 0.1,
    exporters: [
      {
        exporter: 'otlp:http://collector:4318',
        queueRecords: 4,
        queueBytes: 40960,
        queueOldestAgeSec: 12.5,
        breaker: 2,
        retries: 9,
        dropped: { rejected: 1 },
      },
    ],
    ...over,
  };
}
