// The tap API's parameters, the Match they become, and the JSON events proxies' TapEvents become.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpMethod_Registered } from '../../api/gen/fathom/http_types.js';
import { TapEvent_ProxyDirection, type TapEvent } from '../../api/gen/fathom/tap.js';
import { tcpAddressToProto } from '../../api/net-addr.js';
import { FathomError } from '../../lib/errors.js';
import { toPod } from '../../platform/memory/state.js';
import { buildMatch, tapRequest } from './request.js';
import { translateEvent } from './translate.js';

const params = (q: string) => tapRequest(new URLSearchParams(q));

test('parameters: defaults, and a bad one names itself', () => {
  const req = params('resource=deploy/web');
  assert.equal(req.namespace, 'default');
  assert.equal(req.maxRps, 100);
  assert.equal(buildMatch(req), undefined, 'no filter: every request');
  const bad: Array<[string, RegExp]> = [
    ['', /missing parameter "resource"/],
    ['resource=authority', /not an authority/],
    ['resource=svc', /service to tap must be named/],
    ['resource=deploy/web&to=deploy', /"to": name the destination/],
    ['resource=deploy/web&namespace=Bad_NS', /"namespace"/],
    ['resource=deploy/web&max-rps=0', /"max-rps"/],
    ['resource=deploy/web&max-rps=x', /"max-rps"/],
    ['resource=deploy/web&path=api', /"path": a path prefix starts with/],
    ['resource=deploy/web&method=GE T', /"method"/],
  ];
  for (const [q, message] of bad) {
    assert.throws(() => params(q), (err: unknown) => err instanceof FathomError && err.code === 'EBADREQUEST' && message.test(err.message), q);
  }
});

test('filters become one Match: destination labels for --to, HTTP matches for the rest', () => {
  const req = params('resource=deploy/web&namespace=nodevoto&to=deploy/voting&method=post&path=/fathom.Voting/&authority=voting-svc:8080&scheme=HTTP&max-rps=10');
  assert.equal(req.maxRps, 10);
  assert.deepEqual(buildMatch(req), {
    match: {
      $case: 'all',
      value: {
        matches: [
          { match: { $case: 'destinationLabel', value: { key: 'deployment', value: 'voting' } } },
          { match: { $case: 'destinationLabel', value: { key: 'namespace', value: 'nodevoto' } } },
          { match: { $case: 'http', value: { match: { $case: 'method', value: { type: { $case: 'registered', value: HttpMethod_Registered.POST } } } } } },
          { match: { $case: 'http', value: { match: { $case: 'path', value: { match: { $case: 'prefix', value: '/fathom.Voting/' } } } } } },
          { match: { $case: 'http', value: { match: { $case: 'authority', value: { match: { $case: 'exact', value: 'voting-svc:8080' } } } } } },
          { match: { $case: 'http', value: { match: { $case: 'scheme', value: { type: { $case: 'registered', value: 0 } } } } } },
        ],
      },
    },
  });
  assert.deepEqual(buildMatch(params('resource=deploy/web&to=ns/other')), { match: { $case: 'destinationLabel', value: { key: 'namespace', value: 'other' } } });
  assert.deepEqual(buildMatch(params('resource=deploy/web&method=PURGE')), {
    match: { $case: 'http', value: { match: { $case: 'method', value: { type: { $case: 'unregistered', value: 'PURGE' } } } } },
  });
});

const WEB = toPod({ namespace: 'nodevoto', name: 'web-1', ip: '198.18.0.5', owner: { kind: 'Deployment', name: 'web' }, serviceAccount: 'web', meshed: true });
const VOTING = toPod({ namespace: 'nodevoto', name: 'voting-1', ip: '198.18.0.7', owner: { kind: 'Deployment', name: 'voting' }, serviceAccount: 'voting', meshed: true });
const platform = { podByIP: (ip: string) => [WEB, VOTING].find((p) => p.ip === ip) };

function event(direction: TapEvent_ProxyDirection, http: NonNullable<TapEvent['event']>['value']['event']): TapEvent {
  return {
    source: tcpAddressToProto('198.18.0.5', 41000),
    sourceMeta: { labels: direction === TapEvent_ProxyDirection.INBOUND ? { tls: 'true', client_id: 'web.nodevoto.serviceaccount.identity.fathom.cluster.local' } : {} },
    routeMeta: undefined,
    destination: tcpAddressToProto('198.18.0.7', 8080),
    destinationMeta: { labels: direction === TapEvent_ProxyDirection.OUTBOUND ? { tls: 'no_identity', deployment: 'voting' } : {} },
    proxyDirection: direction,
    event: { $case: 'http', value: { event: http } },
  };
}

test('events: text addresses, microseconds, TLS from the right side, labels completed from the platform', () => {
  const id = { base: 7, stream: 3n };
  const req = translateEvent(
    event(TapEvent_ProxyDirection.OUTBOUND, { $case: 'requestInit', value: { id, method: { type: { $case: 'registered', value: 1 } }, scheme: { type: { $case: 'registered', value: 0 } }, authority: 'voting-svc:8080', path: '/v', headers: undefined } }),
    { platform, pod: WEB },
  );
  assert.deepEqual(req, {
    type: 'req',
    id: '7:3',
    direction: 'outbound',
    source: '198.18.0.5:41000',
    destination: '198.18.0.7:8080',
    tls: 'no_identity',
    source_labels: { namespace: 'nodevoto', pod: 'web-1', serviceaccount: 'web', deployment: 'web' },
    destination_labels: { namespace: 'nodevoto', pod: 'voting-1', serviceaccount: 'voting', deployment: 'voting', tls: 'no_identity' },
    route_labels: {},
    proxy_pod: 'nodevoto/web-1',
    method: 'POST',
    scheme: 'http',
    authority: 'voting-svc:8080',
    path: '/v',
  });
  const rsp = translateEvent(event(TapEvent_ProxyDirection.INBOUND, { $case: 'responseInit', value: { id, sinceRequestInit: { seconds: 1n, nanos: 2_500_000 }, httpStatus: 503, headers: undefined } }), { platform, pod: VOTING });
  assert.ok(rsp?.type === 'rsp');
  assert.equal(rsp.latency_us, 1_002_500);
  assert.equal(rsp.tls, 'true', 'inbound: the client side');
  assert.equal(rsp.source_labels.client_id, 'web.nodevoto.serviceaccount.identity.fathom.cluster.local');
  assert.equal(rsp.destination_labels.deployment, 'voting', 'inbound: the tapped pod is the destination');
  const end = translateEvent(
    event(TapEvent_ProxyDirection.INBOUND, {
      $case: 'responseEnd',
      value: { id, sinceRequestInit: { seconds: 0n, nanos: 9_000_000 }, sinceResponseInit: { seconds: 0n, nanos: 1_000 }, responseBytes: 12n, eos: { end: { $case: 'grpcStatusCode', value: 2 } }, trailers: undefined },
    }),
    { platform, pod: VOTING },
  );
  assert.ok(end?.type === 'end');
  assert.deepEqual([end.grpc_status, end.reset_error, end.duration_us, end.since_request_us, end.response_bytes], [2, null, 1, 9000, 12]);
});
