// What the proxy knows about a destination address from Destination.GetProfile: its logical service (or
// a single pod endpoint), whether it is opaque, and its routes and retry budget (model §2.1).
import type { DestinationProfile, RetryBudget, Route, WeightedDst } from '../../api/gen/fathom/destination.js';
import { toEndpoint, type Endpoint } from './endpoints.js';

/** One GetProfile message, converted. Immutable; each message replaces the previous snapshot entirely. */
export interface ProfileSnapshot {
  /**
   * The logical service, `<svc>.<ns>.svc.cluster.local`, to pass to `endpoints()` with the port. Empty
   * when the controller does not know the address as a service: use `endpoint` when set, else the
   * original destination.
   */
  readonly fullyQualifiedName: string;
  /** The port is opaque: no protocol detection, routes ignored. */
  readonly opaqueProtocol: boolean;
  /** Set when the address is a known pod: connect to it directly (no balancing). */
  readonly endpoint?: Endpoint;
  /** As decoded, in order (first match wins); interpreted by the routing stage. */
  readonly routes: readonly Route[];
  readonly retryBudget: RetryBudget | undefined;
  /** Traffic split: authorities to `endpoints()` with relative weights; empty means no split. */
  readonly dstOverrides: readonly WeightedDst[];
}

export function toProfileSnapshot(profile: DestinationProfile): ProfileSnapshot {
  const endpoint = profile.endpoint ? toEndpoint(profile.endpoint) : undefined;
  const snapshot: ProfileSnapshot = {
    fullyQualifiedName: profile.fullyQualifiedName,
    opaqueProtocol: profile.opaqueProtocol,
    routes: Object.freeze(profile.routes),
    retryBudget: profile.retryBudget,
    dstOverrides: Object.freeze(profile.dstOverrides),
    ...(endpoint ? { endpoint } : {}),
  };
  return Object.freeze(snapshot);
}
