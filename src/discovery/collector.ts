/**
 * Render a complete OpenTelemetry Collector config from a discovery:
 *
 *   hostmetrics (process scraper) ──► metrics/processes ──► otlphttp/nrdot   (nrdot's OTLP receiver)
 *   one receiver per service ───────► metrics/services ───► otlphttp/backend
 *   filelog per service with logs ──► logs/services ──────► otlphttp/backend
 *
 * Only running services with an endpoint and at least `minConfidence` are
 * rendered; the others are listed in comments with the reason. Every
 * credential is an ${env:VAR} reference.
 */
import * as path from 'node:path';
import { Document, isMap, isPair, isScalar } from 'yaml';
import { RenderError, substitute, substituteString, type Vars } from './templates/render.js';
import type { ServiceTemplate } from './templates/types.js';
import type { DiscoveredService, DiscoveryResult } from './types.js';

export interface CollectorSettings {
  collectionInterval: string;
  /** nrdot's OTLP/HTTP receiver, where process data goes */
  nrdotEndpoint: string;
  exporter: { endpoint: string; headers: Record<string, string> };
  minConfidence: number;
}

export const DEFAULT_COLLECTOR_SETTINGS: CollectorSettings = {
  collectionInterval: '10s',
  nrdotEndpoint: 'http://127.0.0.1:4319',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Collector ${env:VAR} reference, written as is
  exporter: { endpoint: 'https://otlp.nr-data.net:4318', headers: { 'api-key': '${env:NEW_RELIC_LICENSE_KEY}' } },
  minConfidence: 0.5,
};

export interface RenderedService {
  id: string;
  receiver: string;
  logs?: string;
}

export interface CollectorRender {
  /** the config as plain data */
  config: Record<string, unknown>;
  /** the YAML text, with a comment per receiver giving its evidence */
  yaml: string;
  rendered: RenderedService[];
  skipped: Array<{ id: string; reason: string }>;
}

/** A wildcard bind address is reached on loopback. */
function reachableHost(address: string | undefined): string {
  if (address === undefined || address === '0.0.0.0') return '127.0.0.1';
  if (address === '::') return '::1';
  if (address.startsWith('::ffff:')) return address.slice(7);
  return address;
}

/** The variables of one service for its template. */
export function renderVars(svc: DiscoveredService, tpl: ServiceTemplate, collectionInterval: string): Vars {
  const p = svc.primary;
  const host = p && p.transport !== 'unix' ? reachableHost(p.address) : '';
  const port = p?.port !== undefined ? String(p.port) : '';
  const socket = p?.transport === 'unix' ? (p.path ?? '') : '';
  const vars: Vars = {
    ...tpl.defaults,
    ...svc.values,
    service: svc.service,
    id: svc.id,
    pid: svc.pid !== undefined ? String(svc.pid) : '',
    host,
    port,
    host_port: host ? `${host.includes(':') ? `[${host}]` : host}:${port}` : '',
    socket,
    socket_dir: socket ? path.posix.dirname(socket) : '',
    socket_port: /(\d+)$/.exec(socket)?.[1] ?? '',
    transport: p?.transport === 'unix' ? 'unix' : 'tcp',
    log_paths: svc.logPaths,
    config_path: svc.configPath ?? '',
    collection_interval: collectionInterval,
  };
  const ep = p?.transport === 'unix' ? tpl.endpoint.unix : tpl.endpoint.tcp;
  vars.endpoint = substituteString(ep, vars, `${tpl.file}: endpoint`) as string;
  return vars;
}

const PROCESS_METRICS = {
  'process.context_switches': { enabled: true },
  'process.open_file_descriptors': { enabled: true },
  'process.paging.faults': { enabled: true },
  'process.threads': { enabled: true },
  'process.uptime': { enabled: true },
};

function evidenceComment(svc: DiscoveredService): string {
  const lines = [
    `${svc.displayName}: confidence ${svc.confidence.toFixed(2)}${svc.version ? `, version ${svc.version.value}` : ''}`,
  ];
  for (const e of svc.evidence) lines.push(`  ${e.detail}`);
  for (const n of svc.notes) lines.push(`  note: ${n}`);
  return lines.map((l) => ` ${l}`).join('\n');
}

export function renderCollector(
  result: DiscoveryResult,
  templates: readonly ServiceTemplate[],
  settings: CollectorSettings = DEFAULT_COLLECTOR_SETTINGS,
): CollectorRender {
  const byFile = new Map(templates.map((t) => [t.file, t]));
  const receivers: Record<string, unknown> = {
    hostmetrics: {
      collection_interval: settings.collectionInterval,
      scrapers: {
        process: {
          mute_process_name_error: true,
          mute_process_exe_error: true,
          mute_process_io_error: true,
          mute_process_user_error: true,
          metrics: PROCESS_METRICS,
        },
      },
    },
  };
  const comments = new Map<string, string>();
  const rendered: RenderedService[] = [];
  const skipped: CollectorRender['skipped'] = [];
  const metricIds: string[] = [];
  const logIds: string[] = [];
  for (const svc of result.services) {
    const tpl = byFile.get(svc.template);
    const reason = !tpl
      ? `its template ${svc.template} is not loaded`
      : svc.state !== 'running'
        ? 'installed but not running'
        : !svc.primary
          ? 'no endpoint found'
          : svc.confidence < settings.minConfidence
            ? `confidence ${svc.confidence.toFixed(2)} < ${settings.minConfidence}`
            : undefined;
    if (reason || !tpl) {
      skipped.push({ id: svc.id, reason: reason ?? 'no template' });
      continue;
    }
    const suffix = svc.id.slice(svc.id.indexOf('/') + 1);
    try {
      const vars = renderVars(svc, tpl, settings.collectionInterval);
      const rid = `${tpl.receiver.type}/${suffix}`;
      receivers[rid] = substitute(tpl.receiver.body, vars, `${tpl.file}: receiver.${tpl.receiver.type}`);
      comments.set(rid, evidenceComment(svc));
      metricIds.push(rid);
      const one: RenderedService = { id: svc.id, receiver: rid };
      if (tpl.logs && svc.logPaths.length > 0) {
        const lid = `${tpl.logs.type}/${svc.service}_${suffix}`;
        receivers[lid] = substitute(tpl.logs.body, vars, `${tpl.file}: logs.${tpl.logs.type}`);
        logIds.push(lid);
        one.logs = lid;
      }
      rendered.push(one);
    } catch (e) {
      if (!(e instanceof RenderError)) throw e;
      skipped.push({ id: svc.id, reason: e.message });
    }
  }
  const processors = ['resourcedetection', 'batch'];
  const pipelines: Record<string, unknown> = {
    'metrics/processes': { receivers: ['hostmetrics'], processors, exporters: ['otlphttp/nrdot'] },
  };
  if (metricIds.length)
    pipelines['metrics/services'] = { receivers: metricIds, processors, exporters: ['otlphttp/backend'] };
  if (logIds.length) pipelines['logs/services'] = { receivers: logIds, processors, exporters: ['otlphttp/backend'] };
  const config: Record<string, unknown> = {
    receivers,
    processors: { resourcedetection: { detectors: ['system'] }, batch: {} },
    exporters: {
      'otlphttp/nrdot': {
        endpoint: settings.nrdotEndpoint,
        compression: 'gzip',
        encoding: 'proto',
        retry_on_failure: { enabled: true },
        sending_queue: { enabled: true },
      },
      'otlphttp/backend': {
        endpoint: settings.exporter.endpoint,
        ...(Object.keys(settings.exporter.headers).length ? { headers: settings.exporter.headers } : {}),
        compression: 'gzip',
        retry_on_failure: { enabled: true },
        sending_queue: { enabled: true },
      },
    },
    service: { pipelines },
  };
  return { config, yaml: toYaml(config, result, comments, skipped, rendered.length), rendered, skipped };
}

function toYaml(
  config: Record<string, unknown>,
  result: DiscoveryResult,
  comments: Map<string, string>,
  skipped: CollectorRender['skipped'],
  renderedCount: number,
): string {
  const doc = new Document(config);
  const head = [
    ` OpenTelemetry Collector config written by \`nrdot discover --render collector\``,
    ` (root ${result.root}; ${result.services.length} services found, ${renderedCount} rendered).`,
    ' Process data goes to nrdot (hostmetrics -> otlphttp/nrdot); service metrics and logs go to otlphttp/backend.',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: text about ${env:VAR} references
    " Credentials are ${env:VAR} references: set those variables in the Collector's environment.",
  ];
  for (const s of skipped) head.push(` not rendered: ${s.id} (${s.reason})`);
  doc.commentBefore = head.join('\n');
  const recv = doc.get('receivers', true);
  if (isMap(recv)) {
    for (const item of recv.items) {
      if (!isPair(item) || !isScalar(item.key)) continue;
      const c = comments.get(String(item.key.value));
      if (c) item.key.commentBefore = c;
    }
  }
  return doc.toString({ lineWidth: 0 });
}
