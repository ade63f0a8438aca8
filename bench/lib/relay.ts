// A byte relay between a TCP address and a unix socket, one connection for each accepted one: how the
// mesh benchmark's pods reach a controller in another network namespace without any address outside
// the namespaces (a unix socket's path is shared by every namespace on the host; test/helpers/mesh.ts
// does the same). Carries only control-plane traffic (certificates, discovery), never the measured path.
// Usage: node dist/bench/lib/relay.js LISTEN CONNECT   (each HOST:PORT or an absolute socket path)
import { connect, createServer, type NetConnectOpts } from 'node:net';

function endpoint(text: string): { path: string } | { host: string; port: number } {
  if (text.startsWith('/')) return { path: text };
  const i = text.lastIndexOf(':');
  return { host: text.slice(0, i), port: Number(text.slice(i + 1)) };
}

const [listen, target] = process.argv.slice(2);
if (!listen || !target) {
  process.stderr.write('usage: relay.js LISTEN CONNECT (HOST:PORT or /socket/path)\n');
  process.exit(2);
}
const to = endpoint(target) as NetConnectOpts;
const server = createServer((client) => {
  const upstream = connect(to);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.pipe(upstream).pipe(client);
});
server.listen(endpoint(listen), () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
