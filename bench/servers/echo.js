// The practical limit: a bare `ws` server that parses each JSON frame and
// answers it with the same result Flynn's system.health gives.
import { WebSocketServer } from 'ws';
import { healthPayload } from './health-payload.js';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result: healthPayload(wss.clients.size) }));
  });
});
wss.on('listening', () => console.log(`listening on ${wss.address().port}`));
