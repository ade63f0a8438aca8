// The Identity gRPC service: checks a proxy's Certify request (fields, identity name, CSR, platform token)
// and answers with a leaf certificate, or with a gRPC status whose code says which kind of problem it was.
import { status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { identityName, parseIdentityName } from '../../lib/identity-name.js';
import { logger } from '../../lib/log.js';
import type { CertifyRequest, CertifyResponse, IdentityServer } from '../../api/gen/fathom/identity.js';
import type { Platform } from '../../platform/platform.js';
import { checkCsr } from './csr.js';
import type { Issuer } from './issuer.js';

const log = logger('identity');

/** A refusal with its gRPC code; see docs/controller.md for the table. */
export class CertifyError extends Error {
  constructor(
    readonly code: status,
    message: string,
  ) {
    super(message);
    this.name = 'CertifyError';
  }
}

export interface IdentityNames {
  readonly trustDomain: string;
  readonly controlNamespace: string;
}

export class IdentityApi {
  constructor(
    private readonly platform: Platform,
    /** Undefined while no issuer is loaded: every request is then UNAVAILABLE. */
    private readonly issuer: Issuer | undefined,
    private readonly names: IdentityNames,
  ) {}

  /** The grpc-js implementation of fathom.identity.Identity. */
  handlers(): IdentityServer {
    return {
      certify: (call: ServerUnaryCall<CertifyRequest, CertifyResponse>, callback: sendUnaryData<CertifyResponse>) => {
        this.certify(call.request).then(
          (response) => callback(null, response),
          (err: unknown) => {
            const refusal = err instanceof CertifyError ? err : new CertifyError(status.INTERNAL, `cannot issue a certificate: ${(err as Error).message}`);
            log.info('certify refused', { identity: call.request.identity, code: status[refusal.code], reason: refusal.message });
            callback({ name: 'CertifyError', message: refusal.message, code: refusal.code, details: refusal.message });
          },
        );
      },
    };
  }

  /** Checks `req` and issues; throws CertifyError. Cheap checks run before the platform is asked. */
  async certify(req: CertifyRequest): Promise<CertifyResponse> {
    if (!this.issuer) throw new CertifyError(status.UNAVAILABLE, 'the identity issuer is not loaded yet; retry later');
    if (req.identity === '') throw new CertifyError(status.INVALID_ARGUMENT, 'missing identity');
    if (req.token.length === 0) throw new CertifyError(status.INVALID_ARGUMENT, 'missing token');
    if (req.certificateSigningRequest.length === 0) throw new CertifyError(status.INVALID_ARGUMENT, 'missing certificate_signing_request');

    const parts = parseIdentityName(req.identity);
    if (parts instanceof Error) throw new CertifyError(status.INVALID_ARGUMENT, parts.message);
    if (parts.trustDomain !== this.names.trustDomain || parts.controlNamespace !== this.names.controlNamespace) {
      throw new CertifyError(
        status.FAILED_PRECONDITION,
        `identity "${req.identity}" is not in this mesh: expected the suffix ".identity.${this.names.controlNamespace}.${this.names.trustDomain}"`,
      );
    }

    const csr = await checkCsr(req.certificateSigningRequest, req.identity);
    if (!csr.ok) throw new CertifyError(csr.problem === 'malformed' ? status.INVALID_ARGUMENT : status.FAILED_PRECONDITION, csr.message);

    let review;
    try {
      review = await this.platform.reviewToken(req.token.toString('utf8'));
    } catch (err) {
      throw new CertifyError(status.UNAVAILABLE, `cannot review the token with the ${this.platform.kind} platform: ${(err as Error).message}`);
    }
    if (!review.authenticated) throw new CertifyError(status.UNAUTHENTICATED, `token rejected: ${review.reason}`);
    const allowed = identityName(review.serviceAccount, review.namespace, this.names.trustDomain, this.names.controlNamespace);
    if (allowed !== req.identity) {
      throw new CertifyError(
        status.FAILED_PRECONDITION,
        `identity "${req.identity}" does not match the token, which is for service account "${review.serviceAccount}" in namespace "${review.namespace}" (identity "${allowed}")`,
      );
    }

    const issued = await this.issuer.issue(req.identity, csr.publicKey);
    log.info('issued a certificate', { identity: req.identity, serial: issued.leaf.serialNumber, validUntil: issued.validUntil.toISOString() });
    return {
      leafCertificate: Buffer.from(issued.leaf.rawData),
      intermediateCertificates: issued.intermediates.map((c) => Buffer.from(c.rawData)),
      validUntil: issued.validUntil,
    };
  }
}
