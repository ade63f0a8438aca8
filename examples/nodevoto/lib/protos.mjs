// Loads nodevoto's gRPC contracts (proto/*.proto) at runtime with proto-loader, so the services need no
// generated code: the .proto files are the single source of truth.
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const PROTO_DIR = fileURLToPath(new URL('../proto/', import.meta.url));

function load(file) {
  // keepCase: fields keep their .proto names (`shortcode`, not a camel-cased guess); defaults: a
  // message always carries every field, as proto3 readers expect.
  const definition = protoLoader.loadSync(file, { includeDirs: [PROTO_DIR], keepCase: true, defaults: true, arrays: true });
  return grpc.loadPackageDefinition(definition).nodevoto.v1;
}

export const EmojiService = load('emoji.proto').EmojiService;
export const VotingService = load('voting.proto').VotingService;

// Channel options for clients of a Service name: the pods' resolv.conf has no nameserver (names come
// from the hosts file), so grpc-js must not look for a service config in DNS TXT records.
export const CLIENT_OPTIONS = { 'grpc.service_config_disable_resolution': 1 };

export { grpc };
