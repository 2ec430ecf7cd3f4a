/** `agent.event` notifications (DESIGN §5): one discriminated union on `type`. */
import { z } from 'zod';
import { StopReason } from '../sessions/schema.js';

const Base = { runId: z.string(), sessionId: z.string(), seq: z.number().int().min(1) };

export const AgentEvent = z.discriminatedUnion('type', [
  z.object({ ...Base, type: z.literal('run.started') }),
  z.object({ ...Base, type: z.literal('text.delta'), text: z.string() }),
  z.object({ ...Base, type: z.literal('tool.call'), id: z.string(), name: z.string(), arguments: z.record(z.string(), z.unknown()) }),
  z.object({ ...Base, type: z.literal('tool.result'), id: z.string(), content: z.string(), isError: z.boolean() }),
  z.object({ ...Base, type: z.literal('run.finished'), stopReason: StopReason }),
  z.object({
    ...Base,
    type: z.literal('run.error'),
    error: z.object({ code: z.number().int(), message: z.string(), data: z.unknown().optional() }),
  }),
]);
export type AgentEvent = z.infer<typeof AgentEvent>;

/** An event before the run stamps it with runId, sessionId and seq. */
export type AgentEventBody = AgentEvent extends infer E ? (E extends AgentEvent ? Omit<E, 'runId' | 'sessionId' | 'seq'> : never) : never;

export type EventSink = (event: AgentEvent) => void;
