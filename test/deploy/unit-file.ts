/** A systemd unit file as sections of key → values (a key may repeat; an empty assignment resets). */
export type Unit = Record<string, Record<string, string[]>>;

export function parseUnit(text: string): Unit {
  const unit: Unit = {};
  let section = '';
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = pending + raw.trim();
    pending = '';
    if (line.endsWith('\\')) {
      pending = `${line.slice(0, -1)} `;
      continue;
    }
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const s = /^\[(.+)\]$/.exec(line);
    if (s) {
      section = s[1]!;
      if (!unit[section]) unit[section] = {};
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0) throw new Error(`not key=value: ${line}`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (!unit[section]) unit[section] = {};
    const sec = unit[section];
    if (value === '') sec[key] = [];
    else sec[key] = [...(sec[key] ?? []), value];
  }
  return unit;
}

/** The single value of a key; throws when it is missing or repeated. */
export function one(unit: Unit, section: string, key: string): string {
  const v = unit[section]?.[key];
  if (v?.length !== 1) throw new Error(`[${section}] ${key}: expected one value, got ${JSON.stringify(v)}`);
  return v[0]!;
}

/** Space-separated words of every assignment of a key. */
export function words(unit: Unit, section: string, key: string): string[] {
  return (unit[section]?.[key] ?? []).flatMap((v) => v.split(/\s+/)).filter((w) => w !== '');
}

/** `1280M`, `1G`, `512K` or bytes → bytes. */
export function sizeBytes(v: string): number {
  const m = /^(\d+)([KMGT]?)$/.exec(v);
  if (!m) throw new Error(`not a systemd size: ${v}`);
  const mult = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 }[m[2] as '' | 'K' | 'M' | 'G' | 'T'];
  return Number(m[1]) * mult;
}
