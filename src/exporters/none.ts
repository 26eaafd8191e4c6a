/** `none` exporter: accepts and discards every request. */

import { type Exporter, type ExportPayload, type ExportResult, Lifecycle } from './exporter.js';

export class NoneExporter implements Exporter {
  readonly name = 'none';
  private readonly lifecycle = new Lifecycle('none');

  async start(): Promise<void> {
    this.lifecycle.assertStartable();
    this.lifecycle.markStarted();
  }

  async export(_payload: ExportPayload): Promise<ExportResult> {
    this.lifecycle.assertExportable();
    return { ok: true, bytes: 0 };
  }

  shutdown(): Promise<void> {
    return this.lifecycle.shutdown(async () => {});
  }
}
