import { z } from 'zod';
import { ToolSpec } from '../../tools/tool.js';

export const ListParams = z.strictObject({});
export const ListResult = z.object({ tools: z.array(ToolSpec) });

export const InvokeParams = z.strictObject({
  name: z.string().min(1).max(64),
  arguments: z.record(z.string(), z.unknown()).default({}),
});
export const InvokeResult = z.object({ content: z.string(), isError: z.boolean() });
