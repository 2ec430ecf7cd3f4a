import { defineMethod } from '../types.js';
import { HealthParams, HealthResult } from './health.schema.js';

export interface HealthDeps {
  readonly version: string;
  readonly startedAt: number;
  readonly now: () => number;
  readonly sessionCount: () => number;
  readonly toolCount: () => number;
  readonly connectionCount: () => number;
  readonly model: () => { provider: string; model: string };
  readonly telegram?: () => NonNullable<HealthResult['telegram']>;
}

/** `system.health`: cheap counters only, so it stays fast while agent runs stream. */
export function createHandler(deps: HealthDeps) {
  return defineMethod({
    description: 'Liveness and counters: version, uptime, sessions, tools, connections and the primary model.',
    scope: 'read',
    params: HealthParams,
    result: HealthResult,
    handler: (): HealthResult => {
      const result: HealthResult = {
        status: 'ok',
        version: deps.version,
        uptimeMs: deps.now() - deps.startedAt,
        sessions: deps.sessionCount(),
        tools: deps.toolCount(),
        connections: deps.connectionCount(),
        model: deps.model(),
      };
      if (deps.telegram) result.telegram = deps.telegram();
      return result;
    },
  });
}
