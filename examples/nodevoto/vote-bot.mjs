// nodevoto's vote bot: a steady stream of voters for the web front end at WEB_HOST. Each voter lists
// the emoji, then votes for :doughnut: 15 % of the time, otherwise for a random one. REQUEST_RATE voters
// start per second (default 10), on a fixed beat, whatever the answers' latency.
//
// It logs nothing per vote, on purpose: in the story, nobody can tell from the app where votes fail.
import { Agent, get } from 'node:http';
import { clearInterval, setInterval } from 'node:timers';
import { envNumber, envString, onShutdown } from './lib/env.mjs';

const webHost = envString('WEB_HOST', 'web-svc.nodevoto:80');
const rate = envNumber('REQUEST_RATE', 10, { min: 0.01 });
const DOUGHNUT_SHARE = 0.15;
const TIMEOUT_MS = 5000;
/** Beyond this many voters waiting for answers, a beat is skipped rather than piling up requests. */
const MAX_IN_FLIGHT = 50;

const agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });

/** GETs a path of web and resolves to its status and parsed JSON body (undefined if not JSON). */
function getJson(path) {
  return new Promise((resolve, reject) => {
    const req = get(`http://${webHost}${path}`, { agent, timeout: TIMEOUT_MS }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => {
        let body;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

let inFlight = 0;

async function voter() {
  inFlight++;
  try {
    const list = await getJson('/api/list');
    if (list.status !== 200 || !Array.isArray(list.body) || list.body.length === 0) return;
    const pick = Math.random() < DOUGHNUT_SHARE ? ':doughnut:' : list.body[Math.floor(Math.random() * list.body.length)].shortcode;
    await getJson(`/api/vote?choice=${encodeURIComponent(pick)}`);
  } catch {
    // web unreachable or slow: the next beat tries again
  } finally {
    inFlight--;
  }
}

const beat = setInterval(() => {
  if (inFlight < MAX_IN_FLIGHT) void voter();
}, 1000 / rate);

console.log(`vote-bot: voting at ${rate}/s through http://${webHost}`);
onShutdown(() => {
  clearInterval(beat);
  agent.destroy();
});
