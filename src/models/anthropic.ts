/**
 * The Anthropic Messages API over the official `@anthropic-ai/sdk`:
 * streamed text, tool_use blocks whose input arrives as JSON pieces, usage
 * from message_start and message_delta.
 */
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, ContentBlockParam, Tool as AnthropicTool } from '@anthropic-ai/sdk/resources/messages/messages';
import type { ToolCall } from '../sessions/schema.js';
import {
  abortError,
  parseArguments,
  ProviderFailure,
  sdkClientOptions,
  toProviderFailure,
  type ChatMessage,
  type ModelProvider,
  type TurnRequest,
  type TurnResult,
} from './provider.js';

export interface AnthropicOptions {
  readonly apiKey: string;
  readonly baseURL?: string;
  /** Default 4096. */
  readonly maxTokens?: number;
  /** Per-request limit. Default 120 000 ms. */
  readonly timeoutMs?: number;
}

/** Anthropic wants alternating turns, with tool results as blocks of a user turn. */
function toWire(messages: readonly ChatMessage[]): MessageParam[] {
  const out: MessageParam[] = [];
  const push = (role: 'user' | 'assistant', blocks: ContentBlockParam[]): void => {
    const last = out[out.length - 1];
    if (last && last.role === role && Array.isArray(last.content)) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of messages) {
    if (m.role === 'user') push('user', [{ type: 'text', text: m.content }]);
    else if (m.role === 'tool') {
      push('user', [{ type: 'tool_result', tool_use_id: m.toolCallId, content: m.content, ...(m.isError ? { is_error: true } : {}) }]);
    } else {
      const blocks: ContentBlockParam[] = m.content === '' ? [] : [{ type: 'text', text: m.content }];
      for (const c of m.toolCalls ?? []) blocks.push({ type: 'tool_use', id: c.id, name: c.name, input: c.arguments });
      if (blocks.length > 0) push('assistant', blocks);
    }
  }
  return out;
}

const ANTHROPIC_ERRORS = {
  APIUserAbortError: Anthropic.APIUserAbortError,
  APIError: Anthropic.APIError,
  APIConnectionError: Anthropic.APIConnectionError,
  base: Anthropic.AnthropicError,
};

export function createAnthropicProvider(options: AnthropicOptions): ModelProvider {
  const client = new Anthropic(sdkClientOptions(options));

  return {
    name: 'anthropic',
    async turn(request: TurnRequest): Promise<TurnResult> {
      const tools: AnthropicTool[] = request.tools.map((t) => ({
        name: t.name,
        description: t.description,
        input_schema: t.inputSchema as AnthropicTool['input_schema'],
      }));
      let text = '';
      const blocks = new Map<number, { id: string; name: string; json: string }>();
      const usage = { inputTokens: 0, outputTokens: 0 };
      let finished = false;
      try {
        const stream = await client.messages.create(
          {
            model: request.model,
            max_tokens: options.maxTokens ?? 4096,
            system: request.system,
            messages: toWire(request.messages),
            stream: true,
            ...(tools.length > 0 ? { tools } : {}),
          },
          { signal: request.signal },
        );
        for await (const event of stream) {
          switch (event.type) {
            case 'message_start':
              usage.inputTokens = event.message.usage.input_tokens;
              usage.outputTokens = event.message.usage.output_tokens;
              break;
            case 'content_block_start':
              if (event.content_block.type === 'tool_use') {
                blocks.set(event.index, { id: event.content_block.id, name: event.content_block.name, json: '' });
              }
              break;
            case 'content_block_delta':
              if (event.delta.type === 'text_delta') {
                text += event.delta.text;
                request.onText(event.delta.text);
              } else if (event.delta.type === 'input_json_delta') {
                const block = blocks.get(event.index);
                if (block) block.json += event.delta.partial_json;
              }
              break;
            case 'message_delta':
              usage.outputTokens = event.usage.output_tokens;
              if (event.usage.input_tokens != null) usage.inputTokens = event.usage.input_tokens;
              break;
            case 'message_stop':
              finished = true;
              break;
            default:
              break;
          }
        }
      } catch (error) {
        throw request.signal.aborted ? error : toProviderFailure('anthropic', error, ANTHROPIC_ERRORS);
      }
      // The SDK ends the iteration quietly on abort.
      if (request.signal.aborted) throw abortError();
      if (!finished) throw new ProviderFailure('anthropic', 'the stream ended before the answer finished', { retryable: true });
      const toolCalls: ToolCall[] = [...blocks.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, b]) => ({ id: b.id, name: b.name, arguments: parseArguments(b.json) }));
      return { text, toolCalls, usage };
    },
  };
}
