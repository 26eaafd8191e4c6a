import { resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { NrdotError } from '../../src/core/errors.js';
import { FileExporter } from '../../src/exporters/file.js';
import { NoneExporter } from '../../src/exporters/none.js';
import { OtlpHttpExporter, resolveOtlpEndpoint } from '../../src/exporters/otlp/send.js';
import { createSink } from '../../src/exporters/sink.js';
import { createExporter, parseExportSpec } from '../../src/exporters/spec.js';
import { StdoutExporter } from '../../src/exporters/stdout.js';
import { plainExporterOptions } from '../helpers/defaults.js';

const FORMS = 'valid forms: file:PATH, otlp:URL (http:// or https://), stdout, none';

function specError(spec: string): NrdotError {
  try {
    parseExportSpec(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(NrdotError);
    const err = e as NrdotError;
    expect(err.code).toBe('NRDOT_ERR_BAD_EXPORT_SPEC');
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain(FORMS);
    return err;
  }
  throw new Error(`spec "${spec}" was accepted`);
}

describe('parseExportSpec: valid forms', () => {
  it('stdout and none (any case, trimmed)', () => {
    expect(parseExportSpec('stdout')).toEqual({ kind: 'stdout', spec: 'stdout' });
    expect(parseExportSpec(' NONE ')).toEqual({ kind: 'none', spec: 'NONE' });
  });

  it('file:PATH, relative resolved against the working directory, or a file:// URL', () => {
    expect(parseExportSpec('file:/var/lib/nrdot/m.jsonl')).toEqual({
      kind: 'file',
      path: '/var/lib/nrdot/m.jsonl',
      spec: 'file:/var/lib/nrdot/m.jsonl',
    });
    expect(parseExportSpec('file:./data/m.jsonl')).toMatchObject({ kind: 'file', path: resolve('data/m.jsonl') });
    expect(parseExportSpec('file:with:colon.jsonl')).toMatchObject({ path: resolve('with:colon.jsonl') });
    expect(parseExportSpec('file:///tmp/a%20b.jsonl')).toMatchObject({ kind: 'file', path: '/tmp/a b.jsonl' });
  });

  it('otlp:URL with the /v1/metrics rule', () => {
    expect(parseExportSpec('otlp:http://localhost:4318')).toEqual({
      kind: 'otlp',
      url: 'http://localhost:4318/v1/metrics',
      spec: 'otlp:http://localhost:4318',
    });
    expect(parseExportSpec('otlp:https://otlp.nr-data.net/')).toMatchObject({
      url: 'https://otlp.nr-data.net/v1/metrics',
    });
    expect(parseExportSpec('otlp:https://otlp.nr-data.net:4318/v1/metrics')).toMatchObject({
      url: 'https://otlp.nr-data.net:4318/v1/metrics',
    });
    expect(parseExportSpec('otlp:https://gw.example/otlp/')).toMatchObject({
      url: 'https://gw.example/otlp/v1/metrics',
    });
    expect(parseExportSpec('otlp:https://gw.example/ingest?x=1#frag')).toMatchObject({
      url: 'https://gw.example/ingest?x=1',
    });
    expect(parseExportSpec('OTLP:http://[::1]:4318')).toMatchObject({ url: 'http://[::1]:4318/v1/metrics' });
  });

  it('resolveOtlpEndpoint is idempotent', () => {
    const once = resolveOtlpEndpoint('http://h:4318').href;
    expect(resolveOtlpEndpoint(once).href).toBe(once);
  });
});

describe('parseExportSpec: invalid specs', () => {
  it.each([
    ['', 'invalid export spec "": empty'],
    ['   ', 'empty'],
    ['kafka:broker:9092', 'invalid export spec "kafka:broker:9092": unknown exporter kind "kafka"'],
    ['prometheus', 'invalid export spec "prometheus": unknown exporter'],
    ['file:', 'file: needs a path'],
    ['file:/var/lib/nrdot/', 'names a directory'],
    ['file://remotehost/x.jsonl', 'not a usable file URL'],
    ['otlp:', 'otlp: needs a URL'],
    ['otlp:not a url', '"not a url" is not a URL (include http:// or https://)'],
    ['otlp:localhost:4318', 'scheme localhost is not supported (use http:// or https://)'],
    ['otlp:ftp://h/v1/metrics', 'scheme ftp is not supported'],
    ['otlp:grpc://h:4317', 'scheme grpc is not supported'],
    ['http://localhost:4318', 'unknown exporter kind "http" (for OTLP/HTTP write otlp:http://localhost:4318)'],
    ['stdout:foo', 'stdout takes no argument'],
    ['none:', 'none takes no argument'],
  ])('%j', (spec, message) => {
    expect(specError(spec).message).toContain(message);
  });

  it('refuses credentials in the URL and does not echo them', () => {
    const err = specError('otlp:https://user:hunter2@otlp.example/v1/metrics');
    expect(err.message).toContain('credentials in the URL are not supported');
    expect(err.message).toContain('otlp:https://***@otlp.example/v1/metrics');
    expect(err.message).not.toContain('hunter2');
  });
});

describe('createExporter / createSink', () => {
  it('builds the exporter for each kind', () => {
    const opts = { ...plainExporterOptions(), stdout: new PassThrough() };
    const f = createExporter('file:/tmp/nrdot-x/m.jsonl', { ...opts, file: { maxBytes: 1000, maxFiles: 2 } });
    expect(f).toBeInstanceOf(FileExporter);
    expect((f as FileExporter).maxBytes).toBe(1000);
    expect((f as FileExporter).maxFiles).toBe(2);
    expect(f.name).toBe('file:/tmp/nrdot-x/m.jsonl');
    const o = createExporter('otlp:http://127.0.0.1:4318', {
      ...opts,
      otlp: { ...opts.otlp, headers: { 'api-key': 'k' }, timeoutMs: 500 },
    });
    expect(o).toBeInstanceOf(OtlpHttpExporter);
    expect(o.name).toBe('otlp:http://127.0.0.1:4318/v1/metrics');
    expect(createExporter('stdout', opts)).toBeInstanceOf(StdoutExporter);
    expect(createExporter(parseExportSpec('none'), opts)).toBeInstanceOf(NoneExporter);
    expect(() => createExporter('nope', opts)).toThrow(NrdotError);
  });

  it('createSink parses every spec first and refuses duplicates', () => {
    const sink = createSink(['none', 'stdout', 'file:/tmp/nrdot-y/m.jsonl'], plainExporterOptions());
    expect(sink.exporters.map((e) => e.name)).toEqual(['none', 'stdout', 'file:/tmp/nrdot-y/m.jsonl']);
    expect(() => createSink(['none', 'bogus'], plainExporterOptions())).toThrow(/"bogus"/);
    expect(() => createSink(['file:/tmp/a.jsonl', 'file:///tmp/a.jsonl'], plainExporterOptions())).toThrow(
      /export spec "file:\/\/\/tmp\/a\.jsonl" duplicates "file:\/tmp\/a\.jsonl"/,
    );
    expect(() => createSink(['otlp:http://h:4318', 'otlp:http://h:4318/v1/metrics'], plainExporterOptions())).toThrow(
      NrdotError,
    );
  });
});
