// The practical limit: a bare `ws` server that parses each JSON frame and answers it.
import { WebSocketServer } from 'ws';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
const result = { status: 'ok' };
wss.on('connection', (ws) => {
  ws.on('message', (data) => {
    const msg = JSON.parse(data.toString());
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: msg.id, result }));
  });
});
wss.on('listening', () => console.log(`listening on ${wss.address().port}`));
