// nodevoto's emoji service (gRPC, EmojiService): lists the emoji people can vote for, and finds one by
// its shortcode. Listens on GRPC_PORT (8080).
import { EMOJI } from './lib/emoji-list.mjs';
import { envNumber, onShutdown } from './lib/env.mjs';
import { EmojiService, grpc } from './lib/protos.mjs';

const port = envNumber('GRPC_PORT', 8080, { min: 1 });
const byShortcode = new Map(EMOJI.map((e) => [e.shortcode, e]));

const server = new grpc.Server();
server.addService(EmojiService.service, {
  ListAll(_call, callback) {
    callback(null, { list: EMOJI });
  },
  FindByShortcode(call, callback) {
    callback(null, { emoji: byShortcode.get(call.request.shortcode) ?? null });
  },
});

server.bindAsync(`0.0.0.0:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
  if (err) {
    console.error(`emoji: cannot listen on :${port}: ${err.message}`);
    process.exit(1);
  }
  console.log(`emoji: serving ${EMOJI.length} emoji over gRPC on :${port}`);
});

onShutdown(() => server.forceShutdown());
