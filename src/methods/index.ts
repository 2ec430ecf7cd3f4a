/**
 * The one table of gateway methods: wire name → schemas, scope and handler.
 * Dispatch is derived from it; a method exists only if it appears here.
 */
import type { MethodDef, MethodTable } from './types.js';
import * as health from './system/health.js';

export interface MethodDeps {
  readonly health: health.HealthDeps;
}

export function createMethods(deps: MethodDeps): MethodTable {
  const entries: [string, MethodDef][] = [['system.health', health.createHandler(deps.health)]];
  return new Map(entries);
}
