// Fallback static backend when nginx is unavailable: node:http, answers every request after
// draining its body. Run: node bench/lib/node-backend.ts <port>
import { createServer } from 'node:http';
import { READ_BODY, WRITE_PATH } from './backend-responses.ts';

const port = Number(process.argv[2]);
const body = Buffer.from(READ_BODY);
const server = createServer({ keepAliveTimeout: 120_000 }, (req, res) => {
  req.on('data', () => {});
  req.on('end', () => {
    if (req.url === WRITE_PATH) { res.writeHead(204); res.end(); return; }
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
    res.end(body);
  });
});
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => { server.closeAllConnections(); server.close(() => process.exit(0)); });
