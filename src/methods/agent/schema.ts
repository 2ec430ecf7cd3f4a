import { z } from 'zod';
import { Message, StopReason, Usage } from '../../sessions/schema.js';

export const SendParams = z.strictObject({
  sessionId: z.string().min(1).max(100).optional(),
  message: z.string().min(1).max(512 * 1024),
  model: z.string().min(1).max(500).optional(),
  idempotencyKey: z.string().min(1).max(200).optional(),
});
export const SendResult = z.object({
  runId: z.string(),
  sessionId: z.string(),
  message: Message,
  stopReason: StopReason,
  usage: Usage,
});

export const CancelParams = z
  .strictObject({ runId: z.string().min(1).max(100).optional(), sessionId: z.string().min(1).max(100).optional() })
  .refine((p) => (p.runId === undefined) !== (p.sessionId === undefined), {
    message: 'give exactly one of runId or sessionId',
    path: ['runId'],
  });
export const CancelResult = z.object({ cancelled: z.boolean() });
