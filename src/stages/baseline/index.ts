/**
 * baseline: what exporting every process would cost, and what each row costs
 * when it is exported. A row's data points follow from what was read (an
 * unknown value has no point). The baseline is the same metric set for
 * every process, without nrdot's attributes: its encoded size is measured
 * once per identity from a full read (values are fixed-width in protobuf, so
 * the size changes only when the set of points does) and summed every cycle;
 * a row read `stat`-only costs what its identity measured last.
 */
import type { Frame } from '../../core/frame.js';
import type { Column, IdentityTable } from '../../core/identity.js';
import * as w from '../../otlp/encode/pb-buf.js';
import { nanosFromMs } from '../../otlp/model.js';
import type { Stage } from '../../pipeline/stage.js';
import { FLAG_DETAIL } from '../../sources/batch.js';
import { pointsForRow } from '../build/build.js';
import { writeProcess } from '../build/writer.js';

export class BaselineStage implements Stage {
  readonly name = 'baseline';
  private readonly points: Column<Uint8Array>;
  private readonly bytes: Column<Int32Array>;

  constructor(private readonly ids: IdentityTable) {
    this.points = ids.u8('baseline.points');
    this.bytes = ids.i32('baseline.bytes');
  }

  process(f: Frame): void {
    const b = f.batch;
    const ids = this.ids;
    const points = this.points.data;
    const bytes = this.bytes.data;
    let timeNs: string | undefined;
    let sumPoints = 0;
    let sumBytes = 0;
    for (let i = 0; i < f.n; i++) {
      const s = f.slot[i]!;
      const pts = pointsForRow(b, i);
      f.points[i] = pts;
      // a row read without detail still costs its full set once it is exported
      f.series[i] = Math.max(pts, points[s]!);
      if ((b.flags[i]! & FLAG_DETAIL) !== 0 && points[s] !== pts) {
        timeNs ??= nanosFromMs(b.scannedAtMs);
        w.reset();
        writeProcess(
          b,
          i,
          { name: ids.name[s]!, exe: ids.exe[s]!, cmdline: ids.cmdline[s]!, owner: ids.owner[s]! },
          f.cpuCores[i]!,
          timeNs,
        );
        bytes[s] = w.pos;
        points[s] = pts;
      }
      sumPoints += points[s]!;
      sumBytes += bytes[s]!;
    }
    f.facts.baselinePoints = sumPoints;
    f.facts.baselineBytes = sumBytes;
  }
}
