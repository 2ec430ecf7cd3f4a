import { z } from 'zod';

export const HealthParams = z.strictObject({});
export type HealthParams = z.infer<typeof HealthParams>;

export const HealthResult = z.object({
  status: z.literal('ok'),
  version: z.string(),
  uptimeMs: z.number().int(),
  sessions: z.number().int(),
  tools: z.number().int(),
  connections: z.number().int(),
  model: z.object({ provider: z.string(), model: z.string() }),
  /** Present when the Telegram channel is configured. */
  telegram: z
    .object({ status: z.enum(['starting', 'polling', 'webhook', 'conflict', 'error', 'stopped']), username: z.string().optional(), error: z.string().optional() })
    .optional(),
});
export type HealthResult = z.infer<typeof HealthResult>;
