/**
 * The shape every gateway method shares: a params schema, the scope it needs,
 * and a handler that receives params already parsed by that schema.
 */
import type { z } from 'zod';

/** What an identity may do. A full token holds every scope. */
export type Scope = 'read' | 'agent' | 'tools' | 'admin';

export const ALL_SCOPES: readonly Scope[] = ['read', 'agent', 'tools', 'admin'];

/** Who is on the other end of a connection, settled once at the upgrade. */
export interface Identity {
  /** `token`, or `tailscale:<login>`; never the token itself. */
  readonly id: string;
  readonly scopes: ReadonlySet<Scope>;
}

/** Per-connection context handed to every handler. */
export interface CallContext {
  readonly connectionId: string;
  readonly identity: Identity;
  /** Aborts when the connection closes. */
  readonly signal: AbortSignal;
  /** Sends a JSON-RPC notification to this connection, unless it is gone or too far behind. */
  notify(method: string, params: unknown): void;
}

export interface MethodDef<S extends z.ZodType = z.ZodType, R = unknown> {
  readonly description: string;
  readonly scope: Scope;
  /** Validates `params` (an omitted `params` is validated as `{}`). */
  readonly params: S;
  /** Documents the result; not checked at run time. */
  readonly result: z.ZodType;
  readonly handler: (params: z.output<S>, ctx: CallContext) => R | Promise<R>;
}

/** Method name → definition; the one table dispatch is derived from. */
export type MethodTable = ReadonlyMap<string, MethodDef>;

/** Keeps a definition's params type tied to its handler's parameter. */
export function defineMethod<S extends z.ZodType, R>(def: MethodDef<S, R>): MethodDef {
  return def as unknown as MethodDef;
}
