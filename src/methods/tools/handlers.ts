/** `tools.list` and `tools.invoke`. */
import { InvalidParamsError, NotFoundError, ToolFailedError } from '../../protocol/errors.js';
import type { ToolExecutor } from '../../tools/executor.js';
import type { ToolRegistry } from '../../tools/registry.js';
import { defineMethod } from '../types.js';
import { InvokeParams, InvokeResult, ListParams, ListResult } from './schema.js';

export function createToolMethods(registry: ToolRegistry, executor: ToolExecutor) {
  return {
    'tools.list': defineMethod({
      description: 'Every tool the agent can call, with its input JSON Schema.',
      scope: 'read',
      params: ListParams,
      result: ListResult,
      handler: () => ({ tools: registry.specs() }),
    }),
    'tools.invoke': defineMethod({
      description: 'Runs one tool directly. A tool that reports an error answers isError: true; one that fails answers -32010.',
      scope: 'tools',
      params: InvokeParams,
      result: InvokeResult,
      handler: async (p, ctx) => {
        const outcome = await executor.execute(p.name, p.arguments, ctx.signal);
        if (outcome.ok) return { content: outcome.content, isError: outcome.isError };
        switch (outcome.reason) {
          case 'not_found':
            throw new NotFoundError('tool', p.name);
          case 'invalid_arguments':
            throw new InvalidParamsError([{ field: `arguments${outcome.field ? `.${outcome.field}` : ''}`, message: outcome.message }]);
          default:
            throw new ToolFailedError(p.name, outcome.message);
        }
      },
    }),
  };
}
