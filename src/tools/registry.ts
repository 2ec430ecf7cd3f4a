import { z } from 'zod';
import { TOOL_NAME, type Tool, type ToolSpec } from './tool.js';

/** Tools by name, each with its JSON Schema generated once from its zod schema. */
export class ToolRegistry {
  readonly #tools = new Map<string, { tool: Tool; spec: ToolSpec }>();

  register(tool: Tool): void {
    if (!TOOL_NAME.test(tool.name)) throw new Error(`tool name ${JSON.stringify(tool.name)} must match ${TOOL_NAME}`);
    if (this.#tools.has(tool.name)) throw new Error(`tool ${tool.name} is already registered`);
    const { $schema: _drop, ...inputSchema } = z.toJSONSchema(tool.input, { io: 'input' }) as Record<string, unknown>;
    this.#tools.set(tool.name, { tool, spec: { name: tool.name, description: tool.description, inputSchema } });
  }

  get(name: string): Tool | undefined {
    return this.#tools.get(name)?.tool;
  }

  specs(): ToolSpec[] {
    return [...this.#tools.values()].map((t) => t.spec);
  }

  get size(): number {
    return this.#tools.size;
  }
}
