/**
 * The zod form of HTTP request headers in a config (`control.notify[].headers`,
 * `opamp.headers`): checked after `${env:...}` references are resolved, by
 * the rule the exporters apply (headerProblem), each problem under the
 * header's key; a value is never shown.
 */
import { z } from 'zod';
import { headerProblem } from '../exporters/otlp/endpoint.js';

export const headersSchema = z.record(z.string(), z.string()).superRefine((h, ctx) => {
  for (const [name, value] of Object.entries(h)) {
    const problem = headerProblem(name, value);
    if (problem) ctx.addIssue({ code: 'custom', path: [name], message: problem });
  }
});
