/**
 * Chat Completions over the official `openai` SDK: OpenAI itself and every
 * server that speaks its API (Ollama, vLLM, llama.cpp, LM Studio, OpenRouter).
 * Streaming, tool calls assembled from their chunks, usage via
 * `stream_options.include_usage`.
 */
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
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

export interface OpenAICompatibleOptions {
  /** `openai` or `ollama`: how the provider is named in errors and health. */
  readonly name: string;
  readonly apiKey: string;
  readonly baseURL?: string;
  /** Per-request limit. Default 120 000 ms. */
  readonly timeoutMs?: number;
}

function toWire(system: string, messages: readonly ChatMessage[]): ChatCompletionMessageParam[] {
  const out: ChatCompletionMessageParam[] = [{ role: 'system', content: system }];
  for (const m of messages) {
    if (m.role === 'user') out.push({ role: 'user', content: m.content });
    else if (m.role === 'tool') out.push({ role: 'tool', tool_call_id: m.toolCallId, content: m.content });
    else if (m.toolCalls && m.toolCalls.length > 0) {
      out.push({
        role: 'assistant',
        content: m.content === '' ? null : m.content,
        tool_calls: m.toolCalls.map((c) => ({
          id: c.id,
          type: 'function' as const,
          function: { name: c.name, arguments: JSON.stringify(c.arguments) },
        })),
      });
    } else out.push({ role: 'assistant', content: m.content });
  }
  return out;
}

const OPENAI_ERRORS = {
  APIUserAbortError: OpenAI.APIUserAbortError,
  APIError: OpenAI.APIError,
  APIConnectionError: OpenAI.APIConnectionError,
  base: OpenAI.OpenAIError,
};

export function createOpenAICompatibleProvider(options: OpenAICompatibleOptions): ModelProvider {
  const client = new OpenAI(sdkClientOptions(options));
  const name = options.name;

  return {
    name,
    async turn(request: TurnRequest): Promise<TurnResult> {
      const tools: ChatCompletionTool[] = request.tools.map((t) => ({
        type: 'function',
        function: { name: t.name, description: t.description, parameters: t.inputSchema },
      }));
      let text = '';
      const calls: { id: string; name: string; args: string }[] = [];
      const usage = { inputTokens: 0, outputTokens: 0 };
      let finished = false;
      try {
        const stream = await client.chat.completions.create(
          {
            model: request.model,
            messages: toWire(request.system, request.messages),
            stream: true,
            stream_options: { include_usage: true },
            ...(tools.length > 0 ? { tools } : {}),
          },
          { signal: request.signal },
        );
        for await (const chunk of stream) {
          if (chunk.usage) {
            usage.inputTokens = chunk.usage.prompt_tokens;
            usage.outputTokens = chunk.usage.completion_tokens;
          }
          const choice = chunk.choices[0];
          if (choice?.finish_reason) finished = true;
          const delta = choice?.delta;
          if (!delta) continue;
          if (delta.content) {
            text += delta.content;
            request.onText(delta.content);
          }
          // Tool calls arrive in pieces keyed by index: the first names it, the rest extend its arguments.
          for (const piece of delta.tool_calls ?? []) {
            const call = (calls[piece.index] ??= { id: '', name: '', args: '' });
            if (piece.id) call.id = piece.id;
            if (piece.function?.name) call.name += piece.function.name;
            if (piece.function?.arguments) call.args += piece.function.arguments;
          }
        }
      } catch (error) {
        throw request.signal.aborted ? error : toProviderFailure(name, error, OPENAI_ERRORS);
      }
      // The SDK ends the iteration quietly on abort.
      if (request.signal.aborted) throw abortError();
      if (!finished) {
        // A connection cut mid-answer can end the stream without an error.
        throw new ProviderFailure(name, 'the stream ended before the answer finished', { retryable: true });
      }
      const toolCalls: ToolCall[] = calls
        .filter((c) => c !== undefined)
        .map((c, i) => ({ id: c.id || `call_${i}`, name: c.name, arguments: parseArguments(c.args) }));
      return { text, toolCalls, usage };
    },
  };
}
