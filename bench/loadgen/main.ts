// The load generator's process: the parent (bench/loadgen/run.ts) forks it and sends one run's
// configuration; it reports the measured window's start and end (so the parent can sample the proxy's
// CPU over exactly that window), then the histograms, counts and its own CPU time. Running it in its own
// process keeps its work visible and separate: on two cores it competes with the proxy for CPU.
import { GrpcSender } from './grpc.js';
import { GrpcH2Sender } from './grpc-h2.js';
import { Http1Pool } from './http1.js';
import { OpenLoop } from './open-loop.js';
import type { LoadConfig, LoadMessage } from './protocol.js';

async function run(config: LoadConfig): Promise<void> {
  const send = (m: LoadMessage): void => void process.send!(m);
  const loop = new OpenLoop({
    rate: config.rate,
    warmupMs: config.warmupMs,
    durationMs: config.durationMs,
    drainMs: config.drainMs,
    onPhase: (phase) => {
      if (phase === 'measuring') cpuStart = process.cpuUsage();
      else cpuEnd = process.cpuUsage(cpuStart);
      send({ type: 'phase', phase });
    },
  });
  let cpuStart = process.cpuUsage();
  let cpuEnd: NodeJS.CpuUsage | undefined;
  const grpcTarget = { host: config.host, port: config.port, payloadBytes: config.payloadBytes, connections: config.connections, maxInFlight: config.maxInFlight };
  const sender =
    config.protocol === 'http1'
      ? new Http1Pool({ host: config.host, port: config.port, path: config.path, payloadBytes: config.payloadBytes, connections: config.connections })
      : config.grpcClient === 'h2'
        ? new GrpcH2Sender(grpcTarget)
        : new GrpcSender(grpcTarget);
  await sender.open();
  sender.onRoom = loop.pump;
  loop.addSender(sender);
  const result = await loop.run();
  sender.close();
  const cpu = cpuEnd ?? process.cpuUsage(cpuStart);
  send({
    type: 'result',
    latency: result.latency.toJSON(),
    sendLag: result.sendLag.toJSON(),
    ok: result.ok,
    errors: result.errors,
    timeouts: result.timeouts,
    measuredMs: result.measuredMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    problems: [...sender.problems.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5),
  });
}

process.once('message', (config: LoadConfig) => {
  run(config).then(
    () => process.disconnect(),
    (err: Error) => {
      process.send!({ type: 'failed', message: err.message } satisfies LoadMessage, () => process.exit(1));
    },
  );
});
