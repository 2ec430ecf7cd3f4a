/** Wire shapes of sessions and messages (DESIGN §5). */
import { z } from 'zod';

export const ToolCall = z.object({
  id: z.string(),
  name: z.string(),
  arguments: z.record(z.string(), z.unknown()),
});
export type ToolCall = z.infer<typeof ToolCall>;

export const Session = z.object({
  id: z.string(),
  title: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  messageCount: z.number().int(),
});
export type Session = z.infer<typeof Session>;

export const Role = z.enum(['user', 'assistant', 'tool']);
export type Role = z.infer<typeof Role>;

export const Message = z.object({
  id: z.string(),
  role: Role,
  content: z.string(),
  toolCalls: z.array(ToolCall).optional(),
  toolCallId: z.string().optional(),
  /** Set on tool messages whose result was an error. */
  isError: z.boolean().optional(),
  createdAt: z.string(),
});
export type Message = z.infer<typeof Message>;

/** A message before the store has given it an id and a time. */
export type NewMessage = Omit<Message, 'id' | 'createdAt'>;

export const Usage = z.object({ inputTokens: z.number().int(), outputTokens: z.number().int() });
export type Usage = z.infer<typeof Usage>;

export const StopReason = z.enum(['end', 'cancelled', 'max_turns', 'error']);
export type StopReason = z.infer<typeof StopReason>;
