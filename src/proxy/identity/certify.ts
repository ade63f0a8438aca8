// One Identity.Certify call: sends the proxy's identity, token and CSR, and turns the DER answer into the
// PEM chain (leaf, then intermediates) that the IdentityStore installs (model §2.2).
import { Metadata, type ServiceError } from '@grpc/grpc-js';
import type { CertifyResponse, IdentityClient as IdentityGrpcClient } from '../../api/gen/fathom/identity.js';
import { FathomError } from '../../lib/errors.js';
import { toPem } from '../tls/identity.js';
import { describeGrpcError } from '../control/controller-channel.js';

export interface CertifyInput {
  identity: string;
  token: Buffer;
  csrDer: Buffer;
}

export interface Certified {
  /** Leaf first, then the intermediates as the controller sent them (nearest first). */
  chainPem: string;
  /** The controller's `valid_until`, when it sent one (the store reads the leaf's own notAfter). */
  validUntilMs: number | undefined;
}

export interface PendingCertify {
  readonly result: Promise<Certified>;
  /** Abandons the call (the client is closing); `result` then rejects with CANCELLED. */
  cancel(): void;
}

/**
 * Calls Certify with a deadline of `timeoutMs` (a controller that accepts the connection but never
 * answers must not stall identity forever). Rejects with a FathomError ECERTIFY whose message is the
 * reason to log: the gRPC code and the controller's message, e.g. `UNAUTHENTICATED: token rejected: ...`.
 */
export function certify(client: IdentityGrpcClient, input: CertifyInput, timeoutMs: number): PendingCertify {
  let cancel: () => void = () => {};
  const result = new Promise<Certified>((resolve, reject) => {
    const call = client.certify(
      { identity: input.identity, token: input.token, certificateSigningRequest: input.csrDer },
      new Metadata(),
      { deadline: Date.now() + timeoutMs },
      (err: ServiceError | null, response?: CertifyResponse) => {
        if (err || !response) {
          reject(new FathomError('ECERTIFY', describeGrpcError(err ?? 'no response'), { cause: err }));
          return;
        }
        if (response.leafCertificate.length === 0) {
          reject(new FathomError('ECERTIFY', 'the controller answered without a leaf certificate'));
          return;
        }
        const chainPem = [response.leafCertificate, ...response.intermediateCertificates].map((der) => toPem(der)).join('');
        resolve({ chainPem, validUntilMs: response.validUntil?.getTime() });
      },
    );
    cancel = () => call.cancel();
  });
  return { result, cancel };
}
