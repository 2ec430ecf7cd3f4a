/** `agent.send` and `agent.cancel`. */
import type { Agent } from '../../agent/agent.js';
import type { AgentEvent } from '../../agent/events.js';
import { defineMethod, type CallContext } from '../types.js';
import { CancelParams, CancelResult, SendParams, SendResult } from './schema.js';

export function createAgentMethods(agent: Agent) {
  return {
    'agent.send': defineMethod({
      description:
        'Sends the user a message and resolves when the run ends; agent.event notifications stream meanwhile. Without sessionId a session is created.',
      scope: 'agent',
      params: SendParams,
      result: SendResult,
      // The sink writes to this connection while it lasts; the run itself does not depend on it.
      handler: (p, ctx: CallContext) => agent.send(p, (event: AgentEvent) => ctx.notify('agent.event', event)),
    }),
    'agent.cancel': defineMethod({
      description: 'Cancels a run, or every run of a session; the run resolves with stopReason "cancelled".',
      scope: 'agent',
      params: CancelParams,
      result: CancelResult,
      handler: (p) => ({ cancelled: agent.cancel(p.runId !== undefined ? { runId: p.runId } : { sessionId: p.sessionId! }) }),
    }),
  };
}
