import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { configsDir, loadConfig, mergeConfig } from '../../src/config/load.js';
import { NrdotError } from '../../src/core/errors.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nrdot-config-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const f = path.join(tmp, name);
  fs.writeFileSync(f, text);
  return f;
}

function loadError(file: string): NrdotError {
  try {
    loadConfig(file);
  } catch (e) {
    if (e instanceof NrdotError) return e;
    throw e;
  }
  throw new Error(`expected ${file} to be rejected`);
}

/**
 * Every shipped file under configs/ (recursively) that is an nrdot config.
 * configs/discovery/ holds service templates, checked by test/discovery/templates.test.ts.
 */
function shippedConfigs(): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== 'discovery') walk(p);
      } else if (/\.ya?ml$/.test(e.name) && !e.name.includes('collector')) out.push(p);
    }
  };
  walk(configsDir());
  return out;
}

describe('config loading', () => {
  it('loads the embedded default: balanced, 10 s, file export under ./data', () => {
    const { config } = loadConfig();
    expect(config.profile).toBe('balanced');
    expect(config.interval).toBe('10s');
    expect(config.export).toEqual(['file:./data/nrdot-metrics.jsonl']);
    expect(Object.keys(config.profiles).sort()).toEqual(['aggressive', 'balanced', 'conservative', 'emergency']);
  });

  it.each(shippedConfigs())('shipped config %s validates (with the environment its references name)', (file) => {
    expect(() => loadConfig(file, { env: { NEW_RELIC_LICENSE_KEY: 'example-license-key' } })).not.toThrow();
  });

  it('a user file sets only the keys it changes', () => {
    const f = write('partial.yaml', 'profile: aggressive\nprofiles:\n  aggressive:\n    max_series: 1234\n');
    const { config } = loadConfig(f);
    expect(config.profile).toBe('aggressive');
    expect(config.profiles.aggressive!.max_series).toBe(1234);
    // untouched keys of the same profile and everything else keep the defaults
    expect(config.profiles.aggressive!.full_resolution_tiers).toEqual(['critical']);
    expect(config.classification.rules.critical.names.length).toBeGreaterThan(0);
    expect(config.interval).toBe('10s');
  });

  it('lists replace, maps merge', () => {
    expect(mergeConfig({ a: [1, 2], b: { c: 1, d: 2 } }, { a: [3], b: { d: 5 } })).toEqual({
      a: [3],
      b: { c: 1, d: 5 },
    });
  });

  it('an empty file is the default', () => {
    expect(loadConfig(write('empty.yaml', '')).config.profile).toBe('balanced');
  });

  it('malformed YAML names the file and line', () => {
    const f = write('bad.yaml', 'profile: balanced\nprofiles: [unclosed\n');
    const e = loadError(f);
    expect(e.exitCode).toBe(2);
    expect(e.code).toBe('NRDOT_ERR_CONFIG_READ');
    expect(e.message).toContain(f);
    expect(e.message).toMatch(/malformed YAML/);
    expect(e.message).toMatch(/:\d+:\d+/);
  });

  it('an unknown key is named with its full path', () => {
    const e = loadError(write('unknown.yaml', 'profiles:\n  balanced:\n    max_seriez: 10\n'));
    expect(e.exitCode).toBe(2);
    expect(e.code).toBe('NRDOT_ERR_CONFIG_INVALID');
    expect(e.message).toContain("'profiles.balanced.max_seriez'");
    expect(e.message).toContain('unknown key');
  });

  it('a wrongly typed value is named with its key', () => {
    const e = loadError(write('type.yaml', 'profiles:\n  balanced:\n    max_series: lots\n'));
    expect(e.message).toContain("'profiles.balanced.max_series'");
  });

  it('a profile name that is not a lower-case word says why', () => {
    const e = loadError(write('name.yaml', 'profiles:\n  Big.One:\n    max_series: 10\n'));
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain("'profiles.Big.One': invalid name: profile names are lower-case words");
  });

  it('an unknown profile lists the known ones', () => {
    const e = loadError(write('profile.yaml', 'profile: thrifty\n'));
    expect(e.code).toBe('NRDOT_ERR_UNKNOWN_PROFILE');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain("'thrifty'");
    expect(e.message).toContain('balanced');
  });

  it('an invalid RE2 pattern names the key, index and pattern', () => {
    const f = write('re.yaml', "classification:\n  protected: ['^ok$', 'bad(']\n");
    const e = loadError(f);
    expect(e.code).toBe('NRDOT_ERR_BAD_PATTERN');
    expect(e.exitCode).toBe(2);
    expect(e.message).toContain("'classification.protected[1]'");
    expect(e.message).toContain('/bad(/');
    expect(e.message).toContain(f);
  });

  it('a pattern RE2 refuses (backreference) is rejected', () => {
    const e = loadError(write('backref.yaml', "classification:\n  rules:\n    noise:\n      names: ['(a)\\1']\n"));
    expect(e.message).toContain("'classification.rules.noise.names[0]'");
  });

  it('a profile without critical in full_resolution_tiers is refused', () => {
    const e = loadError(write('nocrit.yaml', 'profiles:\n  balanced:\n    full_resolution_tiers: [important]\n'));
    expect(e.message).toContain("'profiles.balanced.full_resolution_tiers'");
  });

  it('a missing file is a clear error', () => {
    const e = loadError(path.join(tmp, 'nope.yaml'));
    expect(e.code).toBe('NRDOT_ERR_CONFIG_READ');
    expect(e.message).toContain('nope.yaml');
  });

  it('an unknown key gets a did-you-mean from the keys its map accepts', () => {
    const e = loadError(write('typo.yaml', 'export_options:\n  otlp:\n    timout: 5s\nserver:\n  listn: off\n'));
    expect(e.message).toContain(
      "unknown key 'export_options.otlp.timout' (did you mean 'export_options.otlp.timeout'?)",
    );
    expect(e.message).toContain("unknown key 'server.listn' (did you mean 'server.listen'?)");
    // inside a record (profiles.<name>) the profile's keys are the candidates
    expect(loadError(write('typo2.yaml', 'profiles:\n  balanced:\n    anomly: {}\n')).message).toContain(
      "'profiles.balanced.anomly' (did you mean 'profiles.balanced.anomaly'?)",
    );
    // nothing close: no guess
    expect(loadError(write('typo3.yaml', 'zzzzzz: 1\n')).message).toMatch(/unknown key 'zzzzzz'$/);
  });

  describe('what run refuses beyond the schema is refused at load (run, config validate, config print)', () => {
    it.each([
      [
        'export: [otlp:ftp://x]\n',
        'NRDOT_ERR_BAD_EXPORT_SPEC',
        '\'export[0]\': invalid export spec "otlp:ftp://x": scheme ftp',
      ],
      ['export: [stdout, bogus]\n', 'NRDOT_ERR_BAD_EXPORT_SPEC', '\'export[1]\': invalid export spec "bogus"'],
      [
        'export: [file:/tmp/a.jsonl, file:///tmp/a.jsonl]\n',
        'NRDOT_ERR_BAD_EXPORT_SPEC',
        '\'export[1]\': export spec "file:///tmp/a.jsonl" duplicates "file:/tmp/a.jsonl"',
      ],
      [
        'export_options:\n  otlp:\n    headers: { "bad name": v }\n',
        'NRDOT_ERR_BAD_EXPORT_SPEC',
        '\'export_options.otlp.headers\': OTLP header "bad name": not a valid HTTP header name',
      ],
      [
        'export_options:\n  otlp:\n    retry: { initial_interval: 10s, max_interval: 1s }\n',
        'NRDOT_ERR_CONFIG_INVALID',
        "'export_options.otlp.retry.max_interval' (1s) must be at least 'initial_interval' (10s)",
      ],
      [
        'export_options:\n  otlp:\n    breaker: { open_time: 2m, max_open_time: 1m }\n',
        'NRDOT_ERR_CONFIG_INVALID',
        "'export_options.otlp.breaker.max_open_time' (1m) must be at least 'open_time' (2m)",
      ],
      [
        'export_options:\n  otlp:\n    timeout: 0s\n',
        'NRDOT_ERR_CONFIG_INVALID',
        "'export_options.otlp.timeout': must be more than 0",
      ],
      ['memory:\n  check_interval: 0ms\n', 'NRDOT_ERR_CONFIG_INVALID', "'memory.check_interval': must be more than 0"],
      [
        'server:\n  listen: 0.0.0.0:4318\nreceiver:\n  listen: 127.0.0.1:4318\n',
        'NRDOT_ERR_CONFIG_INVALID',
        "'receiver.listen' (127.0.0.1:4318) uses the port of 'server.listen' (0.0.0.0:4318)",
      ],
    ])('%s', (yaml, code, message) => {
      const f = write(`semantic-${code}-${yaml.length}.yaml`, yaml);
      const e = loadError(f);
      expect(e.code).toBe(code);
      expect(e.exitCode).toBe(2);
      expect(e.message).toContain(`${f}: ${message}`);
    });

    it('privacy.command_line: an unknown mode names the choices; hash needs a place for the salt', () => {
      const bad = loadError(write('privacy-mode.yaml', 'privacy:\n  command_line: scramble\n'));
      expect(bad.message).toContain("'privacy.command_line'");
      expect(bad.message).toMatch(/keep.*executable.*hash.*drop/);
      const f = write('privacy-salt.yaml', 'privacy:\n  command_line: hash\n  salt_env: ""\n');
      expect(loadError(f).message).toContain(
        `${f}: 'privacy.command_line' is hash: set privacy.salt_file or privacy.salt_env`,
      );
      expect(loadConfig(write('privacy-ok.yaml', 'privacy:\n  command_line: hash\n')).config.privacy.salt_env).toBe(
        'NRDOT_COMMAND_LINE_SALT',
      );
    });

    it('a zero is still fine where it means "off" (fsync_interval, shutdown_drain), and distinct ports pass', () => {
      const f = write(
        'zeros.yaml',
        'queue:\n  fsync_interval: 0s\nexport_options:\n  otlp:\n    shutdown_drain: 0\nserver:\n  listen: 127.0.0.1:0\nreceiver:\n  listen: 127.0.0.1:0\n',
      );
      expect(() => loadConfig(f)).not.toThrow();
    });
  });

  it('a top-level list is refused', () => {
    expect(loadError(write('list.yaml', '- a\n- b\n')).message).toContain('top level must be a mapping');
  });
});
