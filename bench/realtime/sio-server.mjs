// One Socket.IO 4 server process of the bench's peer row: the same broadcast
// as signalr-chat's SendMessage (a 'SendMessage' event from any client ->
// io.emit('ReceiveMessage', name, text) to every client of every process),
// across processes through @socket.io/redis-adapter on a redis-server.
// Usage: node sio-server.mjs <redis unix socket>
// Listens on 127.0.0.1, a port the OS picks, and prints "listening <port>".
import { createServer } from 'node:http';

import { createAdapter } from '@socket.io/redis-adapter';
import { createClient } from 'redis';
import { Server } from 'socket.io';

const sock = process.argv[2];
if (!sock) throw new Error('usage: node sio-server.mjs <redis unix socket>');

const pub = createClient({ socket: { path: sock } });
const sub = pub.duplicate();
await Promise.all([pub.connect(), sub.connect()]);

const http = createServer();
// The defaults otherwise (no per-message deflate, 25 s pings, polling and
// WebSocket both allowed; the bench's clients open WebSockets directly).
const io = new Server(http, { serveClient: false, adapter: createAdapter(pub, sub) });
io.on('connection', (socket) => {
  socket.on('SendMessage', (name, text) => { io.emit('ReceiveMessage', name, text); });
});

http.listen(0, '127.0.0.1', () => { console.log(`listening ${http.address().port}`); });

const stop = async () => {
  io.close();
  await Promise.allSettled([pub.quit(), sub.quit()]);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
