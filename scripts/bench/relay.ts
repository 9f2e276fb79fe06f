/**
 * The CPU baseline of the e2e section: a bare HTTP relay, the cheapest possible synchronous gateway.
 * It takes a POST, forwards its body with one `fetch` to RELAY_UPSTREAM (the simulator's
 * /v1/chat/completions) and answers with what came back. No auth, no validation, no queue, no
 * logging: whatever the gateway spends beyond this per job is the price of what it adds.
 * Env: PORT, RELAY_UPSTREAM.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';

const upstream = process.env.RELAY_UPSTREAM ?? 'http://127.0.0.1:4010/v1/chat/completions';

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    fetch(upstream, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? 'Bearer sk-relay' },
      body: Buffer.concat(chunks),
    })
      .then(async (r) => {
        const body = Buffer.from(await r.arrayBuffer());
        // The load generator needs Content-Length.
        res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': body.length });
        res.end(body);
      })
      .catch((e: unknown) => {
        const body = JSON.stringify({ error: e instanceof Error ? e.message : String(e) });
        res.writeHead(502, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
  });
});
server.keepAliveTimeout = 60_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
await once(server, 'listening');
console.log('relay listening');

// Nothing to drain: the bench stops the relay only after its load has finished.
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
