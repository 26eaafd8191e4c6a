/**
 * Which group a process rolls up into. By default the first of `groups.by`
 * that applies: its Kubernetes pod, its container, its systemd service, else
 * its executable name. `groups.template` names groups instead, in the manner
 * of process-exporter's matchers: `{{.Service}}/{{.Comm}}`, with the fields
 * below; a template that renders empty falls back to `groups.by`.
 */
import type { GroupInfo } from '../../core/groups.js';
import type { CgroupInfo } from './cgroup.js';

export const GROUP_KINDS = ['pod', 'container', 'service', 'executable'] as const;
export type GroupBy = (typeof GROUP_KINDS)[number];

/** Template fields: executable name, path's base name, path, owner, systemd unit, container id, pod UID, cgroup path. */
export const TEMPLATE_FIELDS = [
  'Comm',
  'ExeBase',
  'ExeFull',
  'Username',
  'Service',
  'Container',
  'Pod',
  'Cgroup',
] as const;
const FIELD = /\{\{\s*\.([A-Za-z]+)\s*\}\}/g;

/** An unknown field of a template, or undefined when every field is known. */
export function unknownTemplateField(template: string): string | undefined {
  for (const m of template.matchAll(FIELD)) {
    if (!(TEMPLATE_FIELDS as readonly string[]).includes(m[1]!)) return m[1];
  }
  return undefined;
}

export interface ProcessFacts {
  name: string;
  exe: string;
  owner: string;
  cgroup?: CgroupInfo;
}

/** The unit's service name: `nginx.service` → `nginx`, `getty@tty1.service` → `getty@tty1`. */
function serviceName(unit: string): string {
  return unit.endsWith('.service') ? unit.slice(0, -'.service'.length) : unit;
}

export function groupFor(p: ProcessFacts, by: readonly GroupBy[], template: string): GroupInfo {
  if (template !== '') {
    const cg = p.cgroup;
    const values: Record<string, string> = {
      Comm: p.name,
      ExeBase: p.exe ? p.exe.slice(p.exe.lastIndexOf('/') + 1) : '',
      ExeFull: p.exe,
      Username: p.owner,
      Service: cg?.unit ? serviceName(cg.unit) : '',
      Container: cg?.containerId ?? '',
      Pod: cg?.podUid ?? '',
      Cgroup: cg?.path ?? '',
    };
    const name = template.replace(FIELD, (_, f: string) => values[f] ?? '');
    if (name.replace(/[\s/:._-]/g, '') !== '') return { name, kind: 'template', attrs: [] };
  }
  for (const kind of by) {
    const cg = p.cgroup;
    if (kind === 'pod' && cg?.podUid) {
      return { name: `pod/${cg.podUid}`, kind, attrs: [['k8s.pod.uid', cg.podUid]] };
    }
    if (kind === 'container' && cg?.containerId) {
      return { name: `container/${cg.containerId.slice(0, 12)}`, kind, attrs: [['container.id', cg.containerId]] };
    }
    if (kind === 'service' && cg?.unit) {
      return { name: cg.unit, kind, attrs: [['service.name', serviceName(cg.unit)]] };
    }
    if (kind === 'executable') {
      return { name: `exe/${p.name}`, kind, attrs: [['process.executable.name', p.name]] };
    }
  }
  return { name: `exe/${p.name}`, kind: 'executable', attrs: [['process.executable.name', p.name]] };
}
