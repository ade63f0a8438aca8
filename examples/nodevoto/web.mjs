// nodevoto's web front end (HTTP/1.1 on WEB_PORT, 8080): the voting page, and a JSON API that calls the
// emoji and voting services over gRPC, at EMOJISVC_HOST and VOTINGSVC_HOST (plaintext: the mesh, when
// there is one, adds mutual TLS between the pods).
//
//   GET /, /leaderboard          the page (one HTML file, no external assets)
//   GET /api/list                every emoji: [{shortcode, unicode}]
//   GET /api/vote?choice=:joy:   one vote; 500 when the voting service fails it
//   GET /api/leaderboard         [{shortcode, unicode, votes}], most votes first
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { voteMethodName } from './lib/emoji-list.mjs';
import { envNumber, envString, onShutdown } from './lib/env.mjs';
import { CLIENT_OPTIONS, EmojiService, grpc, VotingService } from './lib/protos.mjs';

const port = envNumber('WEB_PORT', 8080, { min: 1 });
const emojiHost = envString('EMOJISVC_HOST', 'emoji-svc.nodevoto:8080');
const votingHost = envString('VOTINGSVC_HOST', 'voting-svc.nodevoto:8080');
const page = readFileSync(new URL('./web-page.html', import.meta.url));

const credentials = grpc.credentials.createInsecure();
const emoji = new EmojiService(emojiHost, credentials, CLIENT_OPTIONS);
const voting = new VotingService(votingHost, credentials, CLIENT_OPTIONS);
const RPC_DEADLINE_MS = 5000;

/** Calls a unary RPC and resolves to its response; rejects with the gRPC error. */
function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + RPC_DEADLINE_MS }, (err, response) => (err ? reject(err) : resolve(response)));
  });
}

class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const routes = {
  '/api/list': async () => (await call(emoji, 'ListAll', {})).list,

  '/api/vote': async (url) => {
    const choice = url.searchParams.get('choice');
    if (!choice) throw new HttpError(400, 'missing choice: expected /api/vote?choice=:shortcode:');
    const found = (await call(emoji, 'FindByShortcode', { shortcode: choice })).emoji;
    if (!found) throw new HttpError(404, `no emoji has the shortcode ${choice}`);
    await call(voting, voteMethodName(found.shortcode), {});
    return { voted: found };
  },

  '/api/leaderboard': async () => {
    const [{ results }, { list }] = await Promise.all([call(voting, 'Results', {}), call(emoji, 'ListAll', {})]);
    const unicode = new Map(list.map((e) => [e.shortcode, e.unicode]));
    return results.map((r) => ({ shortcode: r.shortcode, unicode: unicode.get(r.shortcode) ?? '?', votes: r.votes }));
  },
};

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://web');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
  if (url.pathname === '/' || url.pathname === '/leaderboard') return send(res, 200, 'text/html; charset=utf-8', page);
  const route = routes[url.pathname];
  if (!route) return send(res, 404, 'text/plain', 'not found\n');
  try {
    send(res, 200, 'application/json', JSON.stringify(await route(url)));
  } catch (err) {
    // A failed RPC is a 500 with no detail, and no log line: finding out which call failed, and why, is
    // what the mesh is for.
    const status = err instanceof HttpError ? err.status : 500;
    send(res, status, 'application/json', JSON.stringify({ error: err instanceof HttpError ? err.message : 'something went wrong' }));
  }
});

server.listen(port, () => console.log(`web: serving on :${port} (emoji at ${emojiHost}, voting at ${votingHost})`));

onShutdown(
  () =>
    new Promise((resolve) => {
      emoji.close();
      voting.close();
      server.close(() => resolve());
      server.closeAllConnections();
    }),
);
