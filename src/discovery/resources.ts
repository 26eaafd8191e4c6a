/**
 * Discovered services as OTLP resources, for the agent's export: one
 * resource per running service at or above the confidence threshold, with
 * the semantic-convention attributes of `serviceResourceAttributes` plus
 * `host.name`, and two gauges: `nrdot.discovery.service.up` (1) and
 * `nrdot.discovery.confidence`. Pure.
 */
import { int, type KeyValue, nanosFromMs, type ResourceMetrics, str } from '../otlp/model.js';
import { SCOPE } from '../stages/build/scope.js';
import { ResourceAttr, SelfMetric } from '../telemetry/names.js';
import type { DiscoveryResult } from './types.js';
import { serviceResourceAttributes } from './views.js';

/** The services a discovery exports and classifies: running, at or above `minConfidence`. */
export function exportedServices(r: DiscoveryResult, minConfidence: number): DiscoveryResult['services'] {
  return r.services.filter((s) => s.state === 'running' && s.confidence >= minConfidence);
}

export function serviceResources(
  r: DiscoveryResult,
  minConfidence: number,
  at: { nowMs: number; hostName: string },
): ResourceMetrics[] {
  const t = nanosFromMs(at.nowMs);
  return exportedServices(r, minConfidence).map((s) => {
    const attributes: KeyValue[] = [str(ResourceAttr.hostName, at.hostName)];
    for (const [k, v] of Object.entries(serviceResourceAttributes(s))) {
      attributes.push(typeof v === 'number' ? int(k, v) : str(k, v));
    }
    return {
      resource: { attributes },
      scopeMetrics: [
        {
          scope: SCOPE,
          metrics: [
            {
              name: SelfMetric.discoveryServiceUp,
              unit: '1',
              gauge: { dataPoints: [{ timeUnixNano: t, asDouble: 1 }] },
            },
            {
              name: SelfMetric.discoveryConfidence,
              unit: '1',
              gauge: { dataPoints: [{ timeUnixNano: t, asDouble: s.confidence }] },
            },
          ],
        },
      ],
    };
  });
}
