import type { ToolSpec } from '../tools/tool.js';

/** The default system prompt: what Flynn is and which tools it has. Replaced by --system-prompt-file. */
export function defaultSystemPrompt(tools: readonly ToolSpec[]): string {
  const list = tools.map((t) => `- ${t.name}: ${t.description}`).join('\n');
  return [
    'You are Flynn, a personal AI agent that runs on your user\'s own machine.',
    'You talk with one person, through a command line, a web page, scripts or Telegram, and you keep the conversation in persistent sessions.',
    'Answer plainly and briefly unless asked for depth. When a tool can give a fact you would otherwise guess (such as the current time), call it.',
    tools.length > 0 ? `Tools you can call:\n${list}` : 'No tools are available right now.',
  ].join('\n\n');
}
