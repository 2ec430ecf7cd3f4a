/**
 * The one table of gateway methods: wire name → schemas, scope and handler.
 * Dispatch is derived from it; a method exists only if it appears here.
 */
import type { Agent } from '../agent/agent.js';
import type { SessionStore } from '../sessions/store.js';
import type { ToolExecutor } from '../tools/executor.js';
import type { ToolRegistry } from '../tools/registry.js';
import { createAgentMethods } from './agent/handlers.js';
import { createSessionMethods } from './sessions/handlers.js';
import * as health from './system/health.js';
import { createToolMethods } from './tools/handlers.js';
import type { MethodDef, MethodTable } from './types.js';

export interface MethodDeps {
  readonly health: health.HealthDeps;
  readonly store: SessionStore;
  readonly agent: Agent;
  readonly tools: ToolRegistry;
  readonly executor: ToolExecutor;
}

export function createMethods(deps: MethodDeps): MethodTable {
  const table: Record<string, MethodDef> = {
    'system.health': health.createHandler(deps.health),
    ...createSessionMethods(deps.store),
    ...createAgentMethods(deps.agent),
    ...createToolMethods(deps.tools, deps.executor),
  };
  return new Map(Object.entries(table));
}
