// The peer: rpc-websockets, the popular thin JSON-RPC-over-ws library,
// answering with the same result Flynn's system.health gives.
import { Server } from 'rpc-websockets';
import { healthPayload } from './health-payload.js';

const server = new Server({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
server.register('system.health', () => healthPayload(server.wss.clients.size));
server.on('listening', () => console.log(`listening on ${server.wss.address().port}`));
