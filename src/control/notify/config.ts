/**
 * `control.notify:` webhook targets for control decision events: a list of
 * `{ url, headers? }`. Header values may be `${env:VAR}` references (the
 * config loader resolves them and keeps them out of logs).
 */
import { z } from 'zod';
import { headersSchema } from '../../config/headers-schema.js';

export const notifyTargetSchema = z.strictObject({
  url: z
    .url({ protocol: /^https?$/, error: 'expected an http(s) URL' })
    .refine((u) => {
      if (!URL.canParse(u)) return true; // reported by z.url()
      const p = new URL(u);
      return p.username === '' && p.password === '';
    }, 'credentials in the URL are not supported; send them as a header (e.g. authorization)')
    .describe('where each event is POSTed as JSON (logs show only its origin: the path may be a secret)'),
  headers: headersSchema
    .optional()
    .describe('request headers, e.g. authorization: "Bearer ${env:HOOK_TOKEN}" (values are never logged)'),
});

export type NotifyTarget = z.infer<typeof notifyTargetSchema>;

export const notifySchema = z
  .array(notifyTargetSchema)
  .describe('webhooks that receive every control decision as JSON, with retry (src/control/notify)');
