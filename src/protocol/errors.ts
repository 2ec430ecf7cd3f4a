/**
 * The JSON-RPC error catalogue (DESIGN §4). Every error a client can see is
 * built from one of these classes; the dispatcher is the one place where a
 * thrown value becomes a response.
 */

/** Error codes of DESIGN §4. Callers branch on these, never on message text. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  Forbidden: -32001,
  NotFound: -32002,
  Conflict: -32003,
  RateLimited: -32004,
  ToolFailed: -32010,
  ProviderFailed: -32011,
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** An error that travels to the client as `{code, message, data?}`. */
export class RpcError extends Error {
  readonly code: ErrorCode;
  readonly data: unknown;

  constructor(code: ErrorCode, message: string, data?: unknown) {
    super(message);
    this.name = 'RpcError';
    this.code = code;
    this.data = data;
  }

  /** The wire shape: `data` only when there is some. */
  toJSON(): { code: ErrorCode; message: string; data?: unknown } {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }
}

export class ParseError extends RpcError {
  constructor(message = 'Parse error: the frame is not valid JSON') {
    super(ErrorCode.ParseError, message);
  }
}

export class InvalidRequestError extends RpcError {
  constructor(message = 'Invalid request', data?: unknown) {
    super(ErrorCode.InvalidRequest, message, data);
  }
}

export class MethodNotFoundError extends RpcError {
  constructor(method: string) {
    super(ErrorCode.MethodNotFound, `Method not found: ${method}`, { method });
  }
}

/** One problem with the params: `field` is a dotted path ("" for the params object itself). */
export interface ParamIssue {
  field: string;
  message: string;
}

export class InvalidParamsError extends RpcError {
  constructor(issues: ParamIssue[]) {
    const first = issues[0];
    const where = first && first.field ? `${first.field}: ` : '';
    super(ErrorCode.InvalidParams, `Invalid params: ${where}${first?.message ?? 'invalid'}`, {
      field: first?.field ?? '',
      issues,
    });
  }
}

export class InternalError extends RpcError {
  constructor() {
    super(ErrorCode.InternalError, 'Internal error');
  }
}

export class ForbiddenError extends RpcError {
  constructor(method: string, scope: string) {
    super(ErrorCode.Forbidden, `Forbidden: ${method} needs the "${scope}" scope`, { method, scope });
  }
}

export class NotFoundError extends RpcError {
  constructor(what: string, id: string) {
    super(ErrorCode.NotFound, `${what} not found: ${id}`, { [what]: id });
  }
}

export class ConflictError extends RpcError {
  constructor(message: string, data?: unknown) {
    super(ErrorCode.Conflict, message, data);
  }
}

export class RateLimitedError extends RpcError {
  constructor(message: string, retryAfterMs: number) {
    super(ErrorCode.RateLimited, message, { retryAfterMs });
  }
}

export class ToolFailedError extends RpcError {
  constructor(tool: string, error: string) {
    super(ErrorCode.ToolFailed, `Tool failed: ${tool}`, { tool, error });
  }
}

export class ProviderError extends RpcError {
  constructor(provider: string, message: string, retryable: boolean, retryAfterMs?: number) {
    super(ErrorCode.ProviderFailed, `Model provider failed: ${message}`, {
      provider,
      retryable,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  }
}
