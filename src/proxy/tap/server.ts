// The proxy's Tap gRPC service (fathom.tap.Tap/Observe) on its tap port, over mTLS, for the controller's
// identity only: each call becomes a TapHub watcher that lives exactly as long as the call.
import { Metadata, Server, status, type ServerWritableStream } from '@grpc/grpc-js';
import { TapService, type ObserveRequest, type TapEvent, type TapServer as TapHandlers } from '../../api/gen/fathom/tap.js';
import { formatSocketAddr, type SocketAddr } from '../../lib/addr.js';
import type { Logger } from '../../lib/log.js';
import { dnsNames } from '../tls/context.js';
import type { IdentityStore } from '../tls/store.js';
import { tapServerCredentials } from './credentials.js';
import type { TapHub } from './hub.js';
import { compileMatch } from './match.js';

export interface TapServerOptions {
  readonly addr: SocketAddr;
  readonly store: IdentityStore;
  /** The only client identity allowed to tap (FATHOM_PROXY_CONTROLLER_IDENTITY). */
  readonly controllerIdentity: string;
  readonly hub: TapHub;
  readonly log: Logger;
}

export interface RunningTapServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Events queued for a slow client beyond this are dropped (counted in the log at the end) rather than
 * buffered without bound: tap is a sample, and the proxy's memory is not the controller's to fill.
 */
const MAX_QUEUED_EVENTS = 1_000;

type ObserveCall = ServerWritableStream<ObserveRequest, TapEvent>;

export function tapHandlers(opts: Pick<TapServerOptions, 'controllerIdentity' | 'hub' | 'log'>): TapHandlers {
  return {
    observe(call: ObserveCall) {
      const fail = (code: status, details: string) => call.emit('error', { code, details });
      const client = clientIdentity(call);
      if (client !== opts.controllerIdentity) {
        opts.log.info('refused a tap client', { client: client ?? 'none', peer: call.getPeer() });
        fail(status.PERMISSION_DENIED, `tap is served to ${opts.controllerIdentity} only, not to ${client ?? 'a client without an identity'}`);
        return;
      }
      const req = call.request;
      if (req.limit === 0) return fail(status.INVALID_ARGUMENT, 'limit must be positive');
      const match = compileMatch(req.match);
      if (typeof match === 'string') return fail(status.INVALID_ARGUMENT, match);

      let dropped = 0;
      const watcher = opts.hub.watch({
        match,
        limit: req.limit,
        extractHeaders: req.extract?.extract?.$case === 'http',
        emit(event) {
          if (call.writableEnded || call.destroyed) return;
          if (call.writableLength >= MAX_QUEUED_EVENTS) dropped++;
          else call.write(event);
        },
        done: () => call.end(),
      });
      let finished = false;
      const finish = () => {
        if (finished) return;
        finished = true;
        watcher.close();
        opts.log.debug('tap stream ended', { limit: req.limit, dropped });
      };
      call.on('cancelled', finish);
      call.on('close', finish);
      call.on('finish', finish);
      call.on('error', finish);
      // Headers now, before any event: the caller learns the observation is in place.
      call.sendMetadata(new Metadata());
      opts.log.debug('tap stream started', { limit: req.limit });
    },
  };
}

/** The verified client certificate's identity (its first DNS SAN), or undefined. */
function clientIdentity(call: ObserveCall): string | undefined {
  const san = call.getAuthContext().sslPeerCertificate?.subjectaltname;
  return san ? dnsNames(san)[0] : undefined;
}

export async function startTapServer(opts: TapServerOptions): Promise<RunningTapServer> {
  const server = new Server();
  server.addService(TapService, tapHandlers(opts));
  const where = formatSocketAddr(opts.addr.host, opts.addr.port);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(where, tapServerCredentials(opts.store), (err, bound) =>
      err ? reject(new Error(`cannot listen on ${where} for tap: ${err.message}`, { cause: err })) : resolve(bound),
    );
  });
  return {
    port,
    // Tap streams are samples; nothing is lost by cutting them (the controller observes again).
    close: async () => server.forceShutdown(),
  };
}
