// A local OpenAI-compatible Chat Completions server for the agent benchmark:
// every answer streams CHUNKS chunks, one every INTERVAL ms, each chunk's text
// being the wall-clock time (performance.timeOrigin + performance.now()) at
// which it was written, so a reader in another process can compute latency.
import { createServer } from 'node:http';

const CHUNKS = Number(process.env.CHUNKS ?? 200);
const INTERVAL = Number(process.env.INTERVAL_MS ?? 5);
const now = () => performance.timeOrigin + performance.now();

const frame = (delta, finish = null) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'bench', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(frame({ role: 'assistant', content: '' }));
    let sent = 0;
    const timer = setInterval(() => {
      if (res.destroyed) return clearInterval(timer);
      res.write(frame({ content: `${now().toFixed(3)} ` }));
      if (++sent === CHUNKS) {
        clearInterval(timer);
        res.write(frame({}, 'stop'));
        res.write(`data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'bench', choices: [], usage: { prompt_tokens: 10, completion_tokens: CHUNKS, total_tokens: CHUNKS + 10 } })}\n\n`);
        res.end('data: [DONE]\n\n');
      }
    }, INTERVAL);
  });
});
server.listen(0, '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
