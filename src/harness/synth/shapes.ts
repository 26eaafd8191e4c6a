/**
 * Host shapes: which population a synthetic host gets (see each shape's file).
 */
import { buildPopulation, type Population } from './population.js';
import type { Rng } from './prng.js';
import { CI } from './shape-ci.js';
import { DB } from './shape-db.js';
import { IDLE } from './shape-idle.js';
import { K8S } from './shape-k8s.js';
import { buildShaped, type ShapePlan } from './shape-kit.js';
import { WEB } from './shape-web.js';
import type { Shape } from './types.js';

export const PLANS: Record<Exclude<Shape, 'mixed'>, ShapePlan> = { web: WEB, k8s: K8S, ci: CI, db: DB, idle: IDLE };

export function buildShape(
  shape: Shape,
  rng: Rng,
  aux: Rng,
  n: number,
  cpus: number,
  uptime: number,
  clkTck: number,
  pageSize: number,
): Population {
  if (shape === 'mixed') return buildPopulation(rng, aux, n, cpus, uptime, clkTck, pageSize);
  return buildShaped(PLANS[shape], rng, aux, n, cpus, uptime, clkTck, pageSize);
}
