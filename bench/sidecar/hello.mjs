// The app of bench/sidecar/run.sh: Node's http module answering every
// request with 200 and a 95-byte body (the front-door bench's body size).
import http from 'node:http';
const body = 'x'.repeat(94) + '\n';
http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length });
  res.end(body);
}).listen(Number(process.env.PORT), '127.0.0.1');
