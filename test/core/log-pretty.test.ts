import { describe, expect, it } from 'vitest';
import { resolveLogFormat } from '../../src/core/log.js';
import { prettyLine } from '../../src/core/log-pretty.js';

const at = new Date(2025, 0, 2, 14, 3, 7, 412).getTime();

describe('readable log lines', () => {
  it('time, level, message, then the fields as key=value', () => {
    const line = prettyLine(
      JSON.stringify({
        level: 30,
        time: at,
        pid: 42,
        msg: 'control server listening',
        url: 'http://127.0.0.1:9464',
        profileChanges: 'disabled (no token)',
        records: 3,
        ok: false,
        list: ['a', 'b'],
      }),
    );
    expect(line).toBe(
      '14:03:07.412 INFO  control server listening url=http://127.0.0.1:9464 profileChanges="disabled (no token)" records=3 ok=false list=["a","b"]\n',
    );
  });

  it('one line per record; an error stack follows indented', () => {
    const err = new Error('boom');
    const line = prettyLine(
      JSON.stringify({
        level: 50,
        time: at,
        msg: 'failed',
        err: { type: 'Error', message: err.message, stack: err.stack },
      }),
    );
    const [first, ...rest] = line.trimEnd().split('\n');
    expect(first).toBe('14:03:07.412 ERROR failed err=boom');
    expect(rest.length).toBeGreaterThan(0);
    for (const l of rest) expect(l).toMatch(/^ {4}at /);
  });

  it('keeps redacted values redacted and colours the level only when asked', () => {
    const json = JSON.stringify({ level: 40, time: at, msg: 'x', headers: { 'api-key': '[redacted]' } });
    expect(prettyLine(json)).toBe('14:03:07.412 WARN  x headers={"api-key":"[redacted]"}\n');
    expect(prettyLine(json, true)).toBe('14:03:07.412 \x1b[33mWARN \x1b[0m x headers={"api-key":"[redacted]"}\n');
  });

  it('passes a line that is not JSON through', () => {
    expect(prettyLine('plain text')).toBe('plain text\n');
  });

  it('auto is pretty on a terminal and JSON otherwise; an explicit format wins', () => {
    expect(resolveLogFormat('auto', true)).toBe('pretty');
    expect(resolveLogFormat('auto', false)).toBe('json');
    expect(resolveLogFormat('json', true)).toBe('json');
    expect(resolveLogFormat('pretty', false)).toBe('pretty');
  });
});
