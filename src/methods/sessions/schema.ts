import { z } from 'zod';
import { Message, Session } from '../../sessions/schema.js';

const Limit = z.number().int().min(1).max(200).default(50);
const Cursor = z.string().min(1).max(200);

export const CreateParams = z.strictObject({ title: z.string().min(1).max(200).optional() });
export const CreateResult = z.object({ session: Session });

export const ListParams = z.strictObject({ limit: Limit, cursor: Cursor.optional() });
export const ListResult = z.object({ sessions: z.array(Session), nextCursor: z.string().optional() });

export const HistoryParams = z.strictObject({ sessionId: z.string().min(1).max(100), limit: Limit, before: Cursor.optional() });
export const HistoryResult = z.object({ messages: z.array(Message), nextCursor: z.string().optional() });
