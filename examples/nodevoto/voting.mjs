// nodevoto's voting service (gRPC, VotingService): one RPC per emoji counts a vote for it, and Results
// ranks them. Votes live in memory. Listens on GRPC_PORT (8080).
//
// The demo's bug lives here: voting for the doughnut fails with gRPC status UNKNOWN, and on purpose
// nothing is logged about it, as in the talk: the mesh, not the app, has to show where it breaks.
import { EMOJI, voteMethodName } from './lib/emoji-list.mjs';
import { envNumber, onShutdown } from './lib/env.mjs';
import { grpc, VotingService } from './lib/protos.mjs';

const port = envNumber('GRPC_PORT', 8080, { min: 1 });
const votes = new Map();

function voteFor(shortcode) {
  if (shortcode === ':doughnut:') {
    return (_call, callback) => callback({ code: grpc.status.UNKNOWN, details: 'ERROR' });
  }
  return (_call, callback) => {
    votes.set(shortcode, (votes.get(shortcode) ?? 0) + 1);
    callback(null, {});
  };
}

const handlers = Object.fromEntries(EMOJI.map((e) => [voteMethodName(e.shortcode), voteFor(e.shortcode)]));
handlers.Results = (_call, callback) => {
  const results = [...votes].map(([shortcode, n]) => ({ shortcode, votes: n })).sort((a, b) => b.votes - a.votes);
  callback(null, { results });
};

const server = new grpc.Server();
server.addService(VotingService.service, handlers);

server.bindAsync(`0.0.0.0:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    console.error(`voting: cannot listen on :${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(`voting: counting votes for ${EMOJI.length} emoji over gRPC on :${port}`);
});

onShutdown(() => server.forceShutdown());
