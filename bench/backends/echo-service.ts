// The gRPC service both the backend and the load generator speak: one unary method whose messages are
// raw bytes (gRPC does not require protobuf), so no codegen sits between the benchmark and the wire.
import type { ServiceDefinition } from '@grpc/grpc-js';

export const ECHO_PATH = '/fathom.bench.Echo/Echo';

const identity = (b: Buffer): Buffer => b;

export const echoService: ServiceDefinition = {
  Echo: {
    path: ECHO_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
  },
};
