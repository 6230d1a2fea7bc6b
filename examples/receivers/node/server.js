// A minimal codeqr webhook receiver in Node.js, with nothing but the standard
// library (node:http, node:crypto).
//
//   CODEQR_WEBHOOK_SECRET=whsec_... PORT=3000 node examples/receivers/node/server.js
//
// It verifies the Standard Webhooks signature of every POST (HMAC-SHA256 of
// "<webhook-id>.<webhook-timestamp>.<raw body>" keyed with the base64-decoded
// part of the secret after "whsec_"), refuses timestamps more than 5 minutes
// off, and answers 204. Deliveries are at least once: deduplicate on the
// event "id" (= webhook-id) in your own storage.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');

const TOLERANCE_SECONDS = 5 * 60;
const MAX_BODY = 1 << 20;

function verify(secret, headers, rawBody) {
  if (!secret.startsWith('whsec_')) throw new Error('secret must start with whsec_');
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return false;
  if (!/^\d+$/.test(timestamp)) return false;
  const age = Math.abs(Date.now() / 1000 - Number(timestamp));
  if (age > TOLERANCE_SECONDS) return false;
  const expected = crypto
    .createHmac('sha256', key)
    .update(`${id}.${timestamp}.`)
    .update(rawBody)
    .digest();
  // Several "v1,<base64>" entries appear while a secret is being rotated.
  return signatures.split(' ').some((entry) => {
    const [version, sig] = entry.split(',', 2);
    if (version !== 'v1' || !sig) return false;
    const got = Buffer.from(sig, 'base64');
    return got.length === expected.length && crypto.timingSafeEqual(got, expected);
  });
}

const secret = process.env.CODEQR_WEBHOOK_SECRET;
if (!secret) {
  console.error('set CODEQR_WEBHOOK_SECRET to the webhook signing secret (whsec_...)');
  process.exit(1);
}

const server = http.createServer((req, res) => {
  if (req.method !== 'POST') {
    res.writeHead(405).end();
    return;
  }
  const chunks = [];
  let size = 0;
  req.on('data', (chunk) => {
    size += chunk.length;
    if (size > MAX_BODY) req.destroy();
    else chunks.push(chunk);
  });
  req.on('end', () => {
    const rawBody = Buffer.concat(chunks); // verify the raw bytes, not re-serialised JSON
    if (!verify(secret, req.headers, rawBody)) {
      res.writeHead(401).end('invalid signature');
      return;
    }
    const event = JSON.parse(rawBody.toString('utf8'));
    console.log(`verified ${event.event} ${event.id}`);
    res.writeHead(204).end();
  });
});

server.listen(Number(process.env.PORT || 3000), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
