/**
 * Config sections of the config lifecycle (defaults in configs/default.yaml):
 *
 *   security.signed_configs   who may sign a config (src/control/config/signed.ts)
 *   reload                    hot reload: file watch, health check after an apply
 *   config_history            how many applied versions are kept
 */
import { z } from 'zod';
import { durationAtMost } from '../../config/duration-schema.js';

export const securitySchema = z.strictObject({
  signed_configs: z
    .strictObject({
      /** refuse a config (at start, reload, API or OpAMP) that no trusted key signed */
      required: z.boolean(),
      /** PEM public keys (ECDSA P-256); several for rotation; relative paths from the working directory */
      trusted_keys: z.array(z.string().min(1, 'empty path')),
    })
    .refine((s) => !s.required || s.trusted_keys.length > 0, {
      message: 'required is true but trusted_keys is empty: name at least one PEM public key',
      path: ['trusted_keys'],
    }),
});

export const reloadSchema = z.strictObject({
  /** reload when a file given with --config changes */
  watch: z.boolean(),
  /** wait this long after the last change before reloading (editors write in several steps) */
  debounce: durationAtMost('1h'),
  /** cycles watched after an apply; a failed health check in them rolls back */
  health_check_cycles: z.number().int().min(1).max(1000),
});

export const configHistorySchema = z.strictObject({
  /** applied configs kept under <state_dir>/config-history (oldest removed first) */
  max_versions: z
    .number()
    .int()
    .min(2)
    .max(10000)
    .describe('applied configs kept under <state_dir>/config-history (the oldest removed first)'),
});

export type SecurityConfig = z.infer<typeof securitySchema>;
export type ReloadConfig = z.infer<typeof reloadSchema>;
export type ConfigHistoryConfig = z.infer<typeof configHistorySchema>;
