/**
 * The single place where a call becomes a response frame: scope check,
 * params validation, the handler, and the translation of anything thrown
 * into a JSON-RPC error. Nothing thrown by a handler leaks a stack trace.
 */
import type { Logger } from 'pino';
import type { z } from 'zod';
import { ForbiddenError, InternalError, InvalidParamsError, MethodNotFoundError, RpcError } from '../protocol/errors.js';
import type { Call, RequestId } from '../protocol/jsonrpc.js';
import { errorFrame, resultFrame } from '../protocol/jsonrpc.js';
import type { CallContext, MethodTable } from '../methods/types.js';

/** A reply frame, nothing (notification), or a promise of either. */
export type Outcome = string | undefined | Promise<string | undefined>;

const EMPTY_PARAMS = Object.freeze({});

/** Turns a zod failure into the `data` of -32602: which field, and why. */
function paramsError(error: z.ZodError): InvalidParamsError {
  return new InvalidParamsError(
    error.issues.map((issue) => ({ field: issue.path.map(String).join('.'), message: issue.message })),
  );
}

export function createDispatcher(methods: MethodTable, logger: Logger) {
  // Params omitted is the common case for cheap reads (system.health); parse
  // `{}` once per method instead of per call. Handlers never mutate params.
  const omittedParams = new Map<string, unknown>();
  for (const [name, def] of methods) {
    const parsed = def.params.safeParse(EMPTY_PARAMS);
    if (parsed.success) omittedParams.set(name, parsed.data);
  }

  function fail(id: RequestId | undefined, method: string, error: unknown): string | undefined {
    if (!(error instanceof RpcError)) {
      // Logged once here, with the request id; the client sees only -32603.
      logger.error({ err: error, method, requestId: id }, 'method handler threw');
      error = new InternalError();
    }
    return id === undefined ? undefined : errorFrame(id, error as RpcError);
  }

  /** Runs one well-formed call. Never throws; a promise never rejects. */
  return function dispatch(call: Call, ctx: CallContext): Outcome {
    const { id, method } = call;
    const def = methods.get(method);
    if (def === undefined) return fail(id, method, new MethodNotFoundError(method));
    if (!ctx.identity.scopes.has(def.scope)) return fail(id, method, new ForbiddenError(method, def.scope));
    if (Array.isArray(call.params)) {
      return fail(id, method, new InvalidParamsError([{ field: '', message: 'params must be an object (named params)' }]));
    }
    let params: unknown;
    if (call.params === undefined && omittedParams.has(method)) params = omittedParams.get(method);
    else {
      const parsed = def.params.safeParse(call.params ?? EMPTY_PARAMS);
      if (!parsed.success) return fail(id, method, paramsError(parsed.error));
      params = parsed.data;
    }
    let result: unknown;
    try {
      result = def.handler(params, ctx);
    } catch (error) {
      return fail(id, method, error);
    }
    if (result instanceof Promise) {
      return result.then(
        (value: unknown) => (id === undefined ? undefined : resultFrame(id, value)),
        (error: unknown) => fail(id, method, error),
      );
    }
    return id === undefined ? undefined : resultFrame(id, result);
  };
}

export type Dispatch = ReturnType<typeof createDispatcher>;
