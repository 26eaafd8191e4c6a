/**
 * `opamp:` config section. With `endpoint` set, nrdot is an OpAMP agent over
 * the plain HTTP transport (src/control/opamp/client.ts).
 */
import { z } from 'zod';
import { duration } from '../../config/duration-schema.js';
import { headersSchema } from '../../config/headers-schema.js';

const ringName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'ring names are letters, digits, _ . and -');

export const opampSchema = z
  .strictObject({
    /** the server's OpAMP/HTTP URL, e.g. https://opamp.example.com/v1/opamp; "" = not an OpAMP agent */
    endpoint: z
      .string()
      .refine((v) => v === '' || /^https?:\/\/[^/\s]+/.test(v), 'expected an http:// or https:// URL, or ""')
      .describe('the OpAMP server\'s OpAMP/HTTP URL; "" = nrdot is not an OpAMP agent'),
    /** request headers, e.g. authorization: "Bearer ${env:OPAMP_TOKEN}" */
    headers: headersSchema.describe(
      'request headers to the OpAMP server, e.g. authorization: "Bearer ${env:OPAMP_TOKEN}"',
    ),
    /** how often the agent polls the server when nothing changes */
    poll_interval: duration.describe('how often the agent polls the OpAMP server when nothing changes'),
    /** this host's ring, reported as nrdot.ring; "" = from a stable hash of the host id into `rings` */
    ring: z.union([z.literal(''), ringName]),
    /** rollout rings in order, each with a weight (share of hosts); [] and ring "" = no ring reported */
    rings: z
      .array(z.strictObject({ name: ringName, weight: z.number().positive() }))
      .describe(
        'rollout rings in order, each with a weight (share of hosts); a host is placed by a stable hash of its id',
      ),
  })
  .refine((o) => new Set(o.rings.map((r) => r.name)).size === o.rings.length, {
    message: 'ring names must be unique',
    path: ['rings'],
  });

export type OpampConfig = z.infer<typeof opampSchema>;
