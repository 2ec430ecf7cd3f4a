/** The tool seam: a name, a zod schema for its input, and a function. */
import { z } from 'zod';

/** The providers' rule for function names (OpenAI and Anthropic agree on it). */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export interface ToolOutput {
  readonly content: string;
  readonly isError?: boolean;
}

export interface ToolContext {
  /** Fires on cancellation or timeout; a tool should stop promptly. */
  readonly signal: AbortSignal;
}

export interface Tool<S extends z.ZodType = z.ZodType> {
  readonly name: string;
  readonly description: string;
  readonly input: S;
  run(args: z.output<S>, ctx: ToolContext): Promise<ToolOutput> | ToolOutput;
}

/** What clients and models see of a tool. */
export const ToolSpec = z.object({
  name: z.string(),
  description: z.string(),
  inputSchema: z.record(z.string(), z.unknown()),
});
export type ToolSpec = z.infer<typeof ToolSpec>;

export function defineTool<S extends z.ZodType>(tool: Tool<S>): Tool {
  return tool as unknown as Tool;
}
