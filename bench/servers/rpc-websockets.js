// The peer: rpc-websockets, the popular thin JSON-RPC-over-ws library.
import { Server } from 'rpc-websockets';

const server = new Server({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
server.register('system.health', () => ({ status: 'ok' }));
server.on('listening', () => console.log(`listening on ${server.wss.address().port}`));
