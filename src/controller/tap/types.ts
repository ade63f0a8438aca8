// The tap API's answer, as the CLI and the dashboard read it (docs/observability.md): one JSON object per
// line, a request's start, response head or end, or a pod that could not be tapped.

/** Labels of one side of a request: what its proxy reported, completed from the platform's pods. */
export type TapLabelsJson = Readonly<Record<string, string>>;

interface TapEventCommon {
  /** `<base>:<stream>`: the proxy process's random base and its request counter. */
  readonly id: string;
  /** Which proxy saw it: the destination's (`inbound`) or the source's (`outbound`). */
  readonly direction: 'inbound' | 'outbound';
  /** `ip:port`. */
  readonly source: string;
  readonly destination: string;
  /** `true` when the request travelled over mTLS, else the reason (`no_identity`, `disabled`...); `` unknown. */
  readonly tls: string;
  readonly source_labels: TapLabelsJson;
  readonly destination_labels: TapLabelsJson;
  readonly route_labels: TapLabelsJson;
  /** The tapped pod whose proxy reported the event, `namespace/name`. */
  readonly proxy_pod: string;
}

export interface TapRequestEvent extends TapEventCommon {
  readonly type: 'req';
  readonly method: string;
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
}

export interface TapResponseEvent extends TapEventCommon {
  readonly type: 'rsp';
  readonly status: number;
  /** From the request's start to the response head, microseconds. */
  readonly latency_us: number;
}

export interface TapEndEvent extends TapEventCommon {
  readonly type: 'end';
  /** The gRPC status code when the response carried one, else null. */
  readonly grpc_status: number | null;
  /** The HTTP/2 error code when the stream was reset, else null. */
  readonly reset_error: number | null;
  /** From the response head to the end of the response, microseconds (0 without a response head). */
  readonly duration_us: number;
  /** From the request's start to the end of the response, microseconds. */
  readonly since_request_us: number;
  readonly response_bytes: number;
}

/** A pod that could not be tapped (it is retried every window); reported once per distinct message. */
export interface TapErrorEvent {
  readonly type: 'error';
  readonly proxy_pod: string;
  readonly message: string;
}

export type TapEventJson = TapRequestEvent | TapResponseEvent | TapEndEvent;
export type TapLine = TapEventJson | TapErrorEvent;
