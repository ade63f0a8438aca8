// How the tap API reaches one pod's proxy: a Tap.Observe call over mTLS as the controller's identity (its
// serving certificate, renewed by its provider), accepting only the proxy's own identity. Tests substitute
// a fake TapSource.
import { experimental, status, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { TapClient, type ObserveRequest, type TapEvent } from '../../api/gen/fathom/tap.js';
import { formatSocketAddr } from '../../lib/addr.js';
import type { TapTarget } from './targets.js';

/** One pod's proxy, for as long as one tap request lasts. */
export interface PodTap {
  /**
   * One Observe call: `onEvent` for each event until the proxy ends the call (its limit reached) or
   * `signal` aborts. Resolves then; rejects with a message when the call fails.
   */
  observe(request: ObserveRequest, onEvent: (event: TapEvent) => void, signal: AbortSignal): Promise<void>;
  close(): void;
}

export interface TapSource {
  connect(target: TapTarget): PodTap;
}

/** The real source: gRPC to `<pod IP>:4190`, with the controller's identity from `tls` (CA and identity). */
export class GrpcTapSource implements TapSource {
  private readonly credentials: ChannelCredentials;

  constructor(tls: experimental.CertificateProvider) {
    this.credentials = experimental.createCertificateProviderChannelCredentials(tls, tls);
  }

  connect(target: TapTarget): PodTap {
    const client = new TapClient(formatSocketAddr(target.host, target.port), this.credentials, {
      // Dialled by IP; the certificate must name the pod's identity (also sent as SNI, which the proxy needs).
      'grpc.ssl_target_name_override': target.identity,
      'grpc.default_authority': target.identity,
      // A pod that is gone should fail the call, not queue it for the next reconnect.
      'grpc.initial_reconnect_backoff_ms': 1_000,
      'grpc.max_reconnect_backoff_ms': 5_000,
    });
    return {
      observe: (request, onEvent, signal) =>
        new Promise<void>((resolve, reject) => {
          if (signal.aborted) return resolve();
          const call = client.observe(request, { deadline: Infinity });
          const cancel = () => call.cancel();
          signal.addEventListener('abort', cancel, { once: true });
          call.on('data', onEvent);
          call.on('error', (err: ServiceError) => {
            signal.removeEventListener('abort', cancel);
            if (err.code === status.CANCELLED && signal.aborted) resolve();
            else reject(new Error(describe(err, target)));
          });
          call.on('end', () => {
            signal.removeEventListener('abort', cancel);
            resolve();
          });
        }),
      close: () => client.close(),
    };
  }
}

function describe(err: ServiceError, target: TapTarget): string {
  const where = `${target.key}'s proxy at ${formatSocketAddr(target.host, target.port)}`;
  const details = err.details.replace(/\.? Resolution note: $/, '');
  return `cannot tap ${where}: ${status[err.code] ?? `code ${err.code}`}: ${details}`;
}
