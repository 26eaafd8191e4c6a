/**
 * privacy.command_line applies to received processes as to scanned ones:
 * `drop` leaves process.command_line (and process.command_args) out of every
 * exported resource, `hash` replaces it by the keyed hash of the received
 * text, `keep` passes it as received. Everything else of a received
 * resource is unchanged.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { HostmetricsSource } from '../../src/harness/hostmetrics.js';
import { attrString, type ResourceMetrics } from '../../src/otlp/model.js';
import { decodeRequest, encodeRequest } from '../../src/otlp/proto.js';
import { type CommandLineMode, CommandLinePrivacy, HASH_PREFIX } from '../../src/util/privacy.js';
import { receivingInto } from '../helpers/capture-sink.js';

const pidOf = (rm: ResourceMetrics) =>
  rm.resource.attributes.find((a) => a.key === 'process.pid')?.value as { intValue?: string } | undefined;
const SALT = new Uint8Array(32).fill(7);

async function run(mode: CommandLineMode) {
  const { config } = loadConfig();
  const t0 = 1_790_000_000_000;
  const privacy = new CommandLinePrivacy(mode, mode === 'hash' ? SALT : undefined);
  const { p, sink } = receivingInto({ config, now: () => t0, live: () => ({ config, intervalMs: 10_000, privacy }) });
  const src = new HostmetricsSource({ processes: 40, hostName: 'private-host', seed: 9, nowMs: t0 });
  const req = decodeRequest(encodeRequest(src.request(t0)));
  // a sender that also sends the arguments as a list
  for (const rm of req.resourceMetrics) {
    const cmd = attrString(rm.resource.attributes, 'process.command_line') ?? '';
    rm.resource.attributes.push({
      key: 'process.command_args',
      value: { arrayValue: { values: cmd.split(' ').map((s) => ({ stringValue: s })) } },
    });
  }
  const sent = new Map(
    req.resourceMetrics.map((rm) => [pidOf(rm)?.intValue, attrString(rm.resource.attributes, 'process.command_line')]),
  );
  try {
    await p.accept(structuredClone(req));
  } finally {
    await p.close();
  }
  const procs = sink.out.filter((rm) => pidOf(rm) !== undefined && sent.has(pidOf(rm)!.intValue));
  expect(procs.length).toBeGreaterThan(0);
  return { procs, sent, privacy };
}

describe('privacy.command_line on received data', () => {
  it('drop: no command line and no argument list leaves nrdot', async () => {
    const { procs } = await run('drop');
    for (const rm of procs) {
      const keys = rm.resource.attributes.map((a) => a.key);
      expect(keys).not.toContain('process.command_line');
      expect(keys).not.toContain('process.command_args');
      expect(keys).toContain('process.executable.name');
    }
  });

  it('hash: the keyed hash of what was received', async () => {
    const { procs, sent, privacy } = await run('hash');
    for (const rm of procs) {
      const got = attrString(rm.resource.attributes, 'process.command_line')!;
      expect(got.startsWith(HASH_PREFIX)).toBe(true);
      const exe = attrString(rm.resource.attributes, 'process.executable.path') ?? '';
      expect(got).toBe(privacy.apply(sent.get(pidOf(rm)!.intValue)!, exe));
      expect(rm.resource.attributes.map((a) => a.key)).not.toContain('process.command_args');
    }
  });

  it('executable: only the executable, as for a scanned process', async () => {
    const { procs } = await run('executable');
    for (const rm of procs) {
      const exe = attrString(rm.resource.attributes, 'process.executable.path');
      expect(exe).toBeDefined();
      expect(attrString(rm.resource.attributes, 'process.command_line')).toBe(exe);
      expect(rm.resource.attributes.map((a) => a.key)).not.toContain('process.command_args');
    }
  });

  it('keep: as received, the argument list too', async () => {
    const { procs, sent } = await run('keep');
    for (const rm of procs) {
      expect(attrString(rm.resource.attributes, 'process.command_line')).toBe(sent.get(pidOf(rm)!.intValue));
      expect(rm.resource.attributes.map((a) => a.key)).toContain('process.command_args');
    }
  });
});
