// The system.health result every server in the round-trip bench answers with,
// so the comparison measures the framework, not the size of the reply.
const startedAt = Date.now();

export function healthPayload(connections) {
  return {
    status: 'ok',
    version: '0.1.0',
    uptimeMs: Date.now() - startedAt,
    sessions: 0,
    tools: 1,
    connections,
    model: { provider: 'offline', model: 'offline' },
  };
}
