/**
 * `opamp:` config section. With `endpoint` set, nrdot is an OpAMP agent over
 * the plain HTTP transport (src/control/opamp/client.ts).
 */
import { z } from 'zod';
import { durationAtMost } from '../../config/duration-schema.js';
import { headersSchema } from '../../config/headers-schema.js';

const ringName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'ring names are letters, digits, _ . and -');

/** What is wrong with an endpoint URL (undefined: nothing); never quotes it (it may hold a secret). */
function endpointProblem(v: string): string | undefined {
  if (!/^https?:\/\//.test(v) || !URL.canParse(v)) return 'expected an http:// or https:// URL, or ""';
  const u = new URL(v);
  if (u.username || u.password) return 'credentials in the URL are not supported; send them in opamp.headers';
  return undefined;
}

export const opampSchema = z
  .strictObject({
    /** the server's OpAMP/HTTP URL, e.g. https://opamp.example.com/v1/opamp; "" = not an OpAMP agent */
    endpoint: z
      .string()
      .refine((v) => v === '' || endpointProblem(v) === undefined, { error: (i) => endpointProblem(i.input as string) })
      .describe('the OpAMP server\'s OpAMP/HTTP URL; "" = nrdot is not an OpAMP agent'),
    /** request headers, e.g. authorization: "Bearer ${env:OPAMP_TOKEN}" */
    headers: headersSchema.describe(
      'request headers to the OpAMP server, e.g. authorization: "Bearer ${env:OPAMP_TOKEN}"',
    ),
    /** how often the agent polls the server when nothing changes */
    poll_interval: durationAtMost('24h').describe('how often the agent polls the OpAMP server when nothing changes'),
    /** this host's ring, reported as nrdot.ring; "" = from a stable hash of the host id into `rings` */
    ring: z.union([z.literal(''), ringName]),
    /** rollout rings in order, each with a weight (share of hosts); [] and ring "" = no ring reported */
    rings: z
      .array(z.strictObject({ name: ringName, weight: z.number().positive() }))
      .describe(
        'rollout rings in order, each with a weight (share of hosts); a host is placed by a stable hash of its id',
      ),
  })
  .superRefine((o, ctx) => {
    const seen = new Set<string>();
    o.rings.forEach((r, i) => {
      if (seen.has(r.name))
        ctx.addIssue({ code: 'custom', path: ['rings', i, 'name'], message: `'${r.name}' is listed twice` });
      seen.add(r.name);
    });
  });

export type OpampConfig = z.infer<typeof opampSchema>;
