// grpc-js server credentials for the tap port: mTLS with the proxy's own identity, taken from the
// IdentityStore at each handshake (so renewals apply without a restart), and a client certificate required
// and verified against the mesh's trust anchors. Which verified identity may tap is the server's check.
import { ServerCredentials } from '@grpc/grpc-js';
import { FathomError } from '../../lib/errors.js';
import type { IdentityStore } from '../tls/store.js';

/**
 * The store keeps its certificate as a ready SecureContext, not as PEM, so these credentials hand it to
 * each handshake through SNICallback instead of a grpc-js certificate provider. A client must therefore
 * send SNI (any name; the controller sends this proxy's identity, which it verifies). The default context
 * carries only the trust anchors: grpc-js refuses every connection while its context options are null.
 */
class IdentityStoreCredentials extends ServerCredentials {
  constructor(private readonly store: IdentityStore) {
    super(
      {
        SNICallback: (servername, callback) => {
          const context = store.current;
          if (context) callback(null, context);
          else callback(new FathomError('ENOIDENTITY', `tap: no certificate yet for ${store.identity} (asked for "${servername}")`), undefined);
        },
        requestCert: true,
        rejectUnauthorized: true,
        // Only the controller connects here, and it speaks TLS 1.3.
        minVersion: 'TLSv1.3',
        maxVersion: 'TLSv1.3',
      },
      { ca: store.trustAnchorsPem },
    );
  }

  override _equals(other: ServerCredentials): boolean {
    return other instanceof IdentityStoreCredentials && other.store === this.store;
  }
}

export function tapServerCredentials(store: IdentityStore): ServerCredentials {
  return new IdentityStoreCredentials(store);
}
