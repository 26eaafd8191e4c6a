/**
 * Views of a DiscoveryResult for the agent (see docs/ARCHITECTURE.md,
 * "Wiring it into the agent"): the pids classification should treat as at
 * least important, the resource attributes of each service (OpenTelemetry
 * semantic conventions), and the short form /api/status shows. Pure
 * functions; nothing here touches the engine.
 */
import type { DiscoveredService, DiscoveryResult } from './types.js';

/** Every pid of every running service at or above `minConfidence`. */
export function servicePids(r: DiscoveryResult, minConfidence: number): Set<number> {
  const out = new Set<number>();
  for (const s of r.services) {
    if (s.state === 'running' && s.confidence >= minConfidence) for (const p of s.pids) out.add(p);
  }
  return out;
}

export type AttributeValue = string | number;

/**
 * The resource attributes of one service: `service.name`, `service.version`,
 * `server.address` and `server.port` (semantic conventions; a unix socket's
 * path is its server.address), plus `service.instance.id` = the discovery id.
 */
export function serviceResourceAttributes(s: DiscoveredService): Record<string, AttributeValue> {
  const a: Record<string, AttributeValue> = { 'service.name': s.service, 'service.instance.id': s.id };
  if (s.version) a['service.version'] = s.version.value;
  const p = s.primary;
  if (p?.transport === 'unix' && p.path) a['server.address'] = p.path;
  else if (p) {
    if (p.address !== undefined) a['server.address'] = p.address;
    if (p.port !== undefined) a['server.port'] = p.port;
  }
  if (s.pid !== undefined) a['process.pid'] = s.pid;
  return a;
}

export interface DiscoveryStatus {
  at: number;
  services: Array<{
    id: string;
    service: string;
    state: DiscoveredService['state'];
    confidence: number;
    endpoint?: string;
    version?: string;
    pid?: number;
  }>;
  problems: number;
}

/** What /api/status would show: one line of data per service. */
export function discoveryStatus(r: DiscoveryResult): DiscoveryStatus {
  return {
    at: r.at,
    services: r.services.map((s) => {
      const p = s.primary;
      const endpoint =
        p === undefined
          ? undefined
          : p.transport === 'unix'
            ? p.path
            : `${p.address?.includes(':') ? `[${p.address}]` : p.address}:${p.port}`;
      return {
        id: s.id,
        service: s.service,
        state: s.state,
        confidence: s.confidence,
        ...(endpoint ? { endpoint } : {}),
        ...(s.version ? { version: s.version.value } : {}),
        ...(s.pid !== undefined ? { pid: s.pid } : {}),
      };
    }),
    problems: r.problems.length,
  };
}
