/**
 * `nrdot discover`: list the services on this host (or on a host root given
 * with --root) with confidence and evidence, or render the Collector config
 * for them. Reads only; the one file it ever writes is --out.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ErrorCodes, NrdotError } from '../core/errors.js';
import { DEFAULT_COLLECTOR_SETTINGS, renderCollector } from '../discovery/collector.js';
import { type DiscoverySettings, discoverySettings } from '../discovery/config.js';
import { diffConfigs, formatChanges } from '../discovery/diff.js';
import { discover } from '../discovery/discover.js';
import { Problems } from '../discovery/host.js';
import { listenerText } from '../discovery/instances.js';
import type { SocketBackend } from '../discovery/signals/socket-source.js';
import { loadTemplates } from '../discovery/templates/load.js';
import type { DiscoveredService, DiscoveryResult, Problem } from '../discovery/types.js';

export interface DiscoverOpts {
  json?: boolean;
  render?: 'collector';
  out?: string;
  diff?: string;
  root?: string;
  procRoot?: string;
  config?: string;
  templateDir?: string;
  owners?: boolean;
  sockets?: SocketBackend;
}

function checkDir(flag: string, dir: string): void {
  let ok = false;
  try {
    ok = fs.statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) throw new NrdotError(ErrorCodes.USAGE, `${flag} ${dir}: not a directory`);
}

function problemText(p: Problem): string {
  return `${p.file}${p.line !== undefined ? `:${p.line}` : ''}: ${p.message}`;
}

function endpointText(s: DiscoveredService): string {
  const e = s.primary ?? s.endpoints[0];
  if (!e) return '-';
  return `${e.transport} ${listenerText(e)}${e.source === 'config' ? ' (from config)' : ''}`;
}

function printHuman(r: DiscoveryResult): void {
  const st = r.stats;
  const out: string[] = [];
  const secs = (Object.values(st.timings).reduce((a, b) => a + b, 0) / 1000).toFixed(2);
  out.push(
    `${st.processes} processes, ${st.listeners} listening sockets (${r.socketSource === 'sock_diag' ? 'netlink sock_diag' : `/proc/net${r.socketNote ? `: ${r.socketNote}` : ''}`}), ${st.packages} packages, ${st.units} unit files, read in ${secs} s${r.root !== '/' ? ` under ${r.root}` : ''}`,
  );
  if (r.services.length === 0) out.push('', 'no services found');
  for (const s of r.services) {
    out.push('');
    out.push(
      `${s.id}  ${s.displayName}${s.version ? ` ${s.version.value}` : ''}  ${s.state}  confidence ${s.confidence.toFixed(2)}`,
    );
    const row = (k: string, v: string) => out.push(`  ${k.padEnd(9)} ${v}`);
    row('endpoint', endpointText(s));
    if (s.endpoints.length > 1) {
      row(
        'also',
        s.endpoints
          .filter((e) => e !== s.primary)
          .map((e) => `${e.transport} ${listenerText(e)}`)
          .join(', '),
      );
    }
    if (s.pid !== undefined)
      row(
        'process',
        `pid ${s.pid}${s.executable ? ` ${s.executable}` : ''}${s.pids.length > 1 ? ` (+${s.pids.length - 1})` : ''}`,
      );
    if (s.configPath) row('config', s.configPath);
    if (s.logPaths.length) row('logs', s.logPaths.join(', '));
    if (s.unit) row('unit', s.unit);
    if (s.version) row('version', `${s.version.value} (${s.version.source})`);
    s.evidence.forEach((e, i) => {
      row(i === 0 ? 'evidence' : '', `${e.detail} [+${e.weight}]`);
    });
    for (const n of s.notes) row('note', n);
  }
  if (r.unmatchedListeners.length) {
    out.push('', 'other listening sockets (no template matched):');
    for (const l of r.unmatchedListeners) {
      out.push(
        `  ${l.transport} ${listenerText(l)}${l.pid !== undefined ? `  pid ${l.pid} ${l.process ?? ''}` : '  (owner unknown)'}`,
      );
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

function readExisting(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new NrdotError(ErrorCodes.USAGE, `--diff ${file}: cannot read: ${(e as Error).message}`);
  }
  try {
    return parse(text) ?? {};
  } catch (e) {
    const pos = (e as { linePos?: Array<{ line: number }> }).linePos?.[0];
    throw new NrdotError(
      ErrorCodes.USAGE,
      `--diff ${file}${pos ? `:${pos.line}` : ''}: not valid YAML: ${(e as Error).message.split('\n')[0]}`,
    );
  }
}

export async function discoverCommand(o: DiscoverOpts): Promise<void> {
  if (o.root) checkDir('--root', o.root);
  const root = o.root ? path.resolve(o.root) : '/';
  const procRoot = o.procRoot ? path.resolve(o.procRoot) : path.join(root, 'proc');
  if (o.procRoot) checkDir('--proc-root', o.procRoot);
  else if (!fs.existsSync(procRoot)) {
    throw new NrdotError(
      ErrorCodes.NOT_PROCFS,
      `--root ${o.root}: ${procRoot} is missing (a host root holds proc/, etc/, var/...)`,
    );
  }
  if ((o.out || o.diff) && !o.render) o.render = 'collector';
  if (o.templateDir) checkDir('--template-dir', o.templateDir);

  let settings: Pick<DiscoverySettings, 'templateDir' | 'collector'> = { collector: DEFAULT_COLLECTOR_SETTINGS };
  if (o.config) {
    const { loadConfig } = await import('../config/load.js');
    const { config } = loadConfig(o.config);
    settings = discoverySettings(config.discovery, path.dirname(path.resolve(o.config)));
  }
  const templateDir = o.templateDir ? path.resolve(o.templateDir) : settings.templateDir;
  const problems = new Problems();
  const templates = loadTemplates({ userDir: templateDir }, problems);
  let result: DiscoveryResult;
  try {
    result = await discover({
      root,
      procRoot,
      templates,
      problems,
      ownersOfAll: o.owners === true,
      sockets: o.sockets,
    });
  } catch (e) {
    if (o.sockets === 'sock_diag' && /^sockets: /.test((e as Error).message)) {
      throw new NrdotError(ErrorCodes.USAGE, `--sockets sock_diag: ${(e as Error).message.slice(9)}`);
    }
    throw e;
  }

  if (!o.render) {
    if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else printHuman(result);
  } else {
    const r = renderCollector(result, templates, settings.collector);
    if (o.diff) {
      process.stdout.write(formatChanges(diffConfigs(readExisting(o.diff), r.config)));
    }
    if (o.out) {
      try {
        fs.writeFileSync(o.out, r.yaml);
      } catch (e) {
        throw new NrdotError(ErrorCodes.OUTPUT_UNWRITABLE, `--out ${o.out}: cannot write: ${(e as Error).message}`);
      }
    } else if (!o.diff) {
      process.stdout.write(r.yaml);
    }
    if (o.out || o.diff) {
      const what = r.rendered.map((x) => x.receiver).join(', ') || 'none';
      process.stderr.write(
        `${o.out ? `wrote ${o.out}` : 'rendered'}: ${r.rendered.length} service receivers (${what}); ${r.skipped.length} services not rendered\n`,
      );
    }
  }
  if (!o.json || o.render) {
    for (const p of result.problems) process.stderr.write(`nrdot: warning: ${problemText(p)}\n`);
  }
}
