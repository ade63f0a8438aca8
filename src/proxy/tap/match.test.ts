// The tap Match, table-driven: every kind of match against requests that should and should not pass, and
// the malformed matches refused with a message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpMethod_Registered, Scheme_Registered } from '../../api/gen/fathom/http_types.js';
import type { ObserveRequest_Match as Match } from '../../api/gen/fathom/tap.js';
import { ipToProto } from '../../api/net-addr.js';
import { compileMatch, type Matcher } from './match.js';
import type { TapRequest } from './request.js';

const REQ: TapRequest = {
  direction: 'outbound',
  source: { ip: '198.18.0.5', port: 41000, labels: {} },
  destination: { ip: '198.18.0.7', port: 8080, labels: { namespace: 'nodevoto', deployment: 'voting', tls: 'true' } },
  routeLabels: { route: 'vote' },
  method: 'POST',
  scheme: 'http',
  authority: 'Voting-Svc.nodevoto:8080',
  path: '/fathom.Voting/VoteDoughnut',
};

const req = (patch: Partial<TapRequest>): TapRequest => ({ ...REQ, ...patch });

// Builders for the oneof-heavy Match messages.
const all = (...matches: Match[]): Match => ({ match: { $case: 'all', value: { matches } } });
const any = (...matches: Match[]): Match => ({ match: { $case: 'any', value: { matches } } });
const not = (m: Match): Match => ({ match: { $case: 'not', value: m } });
const netmask = (side: 'source' | 'destination', ip: string, mask: number): Match => ({
  match: { $case: side, value: { match: { $case: 'netmask', value: { ip: ipToProto(ip), mask } } } },
});
const ports = (side: 'source' | 'destination', min: number, max: number): Match => ({
  match: { $case: side, value: { match: { $case: 'ports', value: { min, max } } } },
});
const method = (m: HttpMethod_Registered | string): Match => ({
  match: { $case: 'http', value: { match: { $case: 'method', value: { type: typeof m === 'string' ? { $case: 'unregistered', value: m } : { $case: 'registered', value: m } } } } },
});
const scheme = (s: Scheme_Registered | string): Match => ({
  match: { $case: 'http', value: { match: { $case: 'scheme', value: { type: typeof s === 'string' ? { $case: 'unregistered', value: s } : { $case: 'registered', value: s } } } } },
});
const str = (field: 'authority' | 'path', kind: 'exact' | 'prefix', value: string): Match => ({
  match: { $case: 'http', value: { match: { $case: field, value: { match: { $case: kind, value } } } } } as Match['match'],
});
const dstLabel = (key: string, value: string): Match => ({ match: { $case: 'destinationLabel', value: { key, value } } });
const routeLabel = (key: string, value: string): Match => ({ match: { $case: 'routeLabel', value: { key, value } } });

const compiled = (m: Match | undefined): Matcher => {
  const c = compileMatch(m);
  assert.equal(typeof c, 'function', `compiles: ${String(c)}`);
  return c as Matcher;
};

test('each kind of match, on requests that pass and that do not', () => {
  const cases: Array<[string, Match | undefined, TapRequest, boolean]> = [
    ['no match at all', undefined, REQ, true],
    ['empty top-level match', { match: undefined }, REQ, true],
    ['source netmask in', netmask('source', '198.18.0.0', 16), REQ, true],
    ['source netmask out', netmask('source', '10.0.0.0', 8), REQ, false],
    ['source /32', netmask('source', '198.18.0.5', 32), REQ, true],
    ['source /0 matches any IPv4', netmask('source', '0.0.0.0', 0), REQ, true],
    ['IPv4-mapped peer', netmask('source', '198.18.0.0', 16), req({ source: { ip: '::ffff:198.18.0.5', port: 1, labels: {} } }), true],
    ['IPv6 netmask', netmask('destination', 'fd00::', 8), req({ destination: { ip: 'fd00::7', port: 80, labels: {} } }), true],
    ['IPv6 netmask, IPv4 peer', netmask('destination', 'fd00::', 8), REQ, false],
    ['destination port in range', ports('destination', 8000, 8100), REQ, true],
    ['destination port below', ports('destination', 8081, 9000), REQ, false],
    ['port max 0 is just min', ports('destination', 8080, 0), REQ, true],
    ['port max 0, other port', ports('destination', 8081, 0), REQ, false],
    ['source port', ports('source', 41000, 41000), REQ, true],
    ['registered method', method(HttpMethod_Registered.POST), REQ, true],
    ['other registered method', method(HttpMethod_Registered.GET), REQ, false],
    ['unregistered method', method('PURGE'), req({ method: 'PURGE' }), true],
    ['methods are case-sensitive', method('post'), REQ, false],
    ['scheme http', scheme(Scheme_Registered.HTTP), REQ, true],
    ['scheme https', scheme(Scheme_Registered.HTTPS), REQ, false],
    ['unregistered scheme, any case', scheme('HTTP'), REQ, true],
    ['authority exact, case-insensitive', str('authority', 'exact', 'voting-svc.nodevoto:8080'), REQ, true],
    ['authority exact, other', str('authority', 'exact', 'voting-svc.nodevoto'), REQ, false],
    ['authority prefix', str('authority', 'prefix', 'voting-svc.'), REQ, true],
    ['path prefix', str('path', 'prefix', '/fathom.Voting/'), REQ, true],
    ['path prefix is case-sensitive', str('path', 'prefix', '/fathom.voting/'), REQ, false],
    ['path exact', str('path', 'exact', '/fathom.Voting/VoteDoughnut'), REQ, true],
    ['path exact, longer', str('path', 'exact', '/fathom.Voting'), REQ, false],
    ['destination label', dstLabel('deployment', 'voting'), REQ, true],
    ['destination label, other value', dstLabel('deployment', 'web'), REQ, false],
    ['destination label, absent key', dstLabel('pod', 'voting'), REQ, false],
    ['route label', routeLabel('route', 'vote'), REQ, true],
    ['route label without route labels', routeLabel('route', 'vote'), req({ routeLabels: undefined }), false],
    ['all: every part', all(dstLabel('deployment', 'voting'), method(HttpMethod_Registered.POST)), REQ, true],
    ['all: one part fails', all(dstLabel('deployment', 'voting'), method(HttpMethod_Registered.GET)), REQ, false],
    ['all of nothing', all(), REQ, true],
    ['any: one part', any(method(HttpMethod_Registered.GET), dstLabel('namespace', 'nodevoto')), REQ, true],
    ['any: none', any(method(HttpMethod_Registered.GET), dstLabel('namespace', 'other')), REQ, false],
    ['any of nothing', any(), REQ, false],
    ['not', not(method(HttpMethod_Registered.GET)), REQ, true],
    ['not not', not(not(method(HttpMethod_Registered.GET))), REQ, false],
    ['nested', all(any(str('path', 'prefix', '/x'), str('path', 'prefix', '/fathom')), not(netmask('destination', '198.18.0.7', 32))), REQ, false],
  ];
  for (const [name, match, request, expected] of cases) assert.equal(compiled(match)(request), expected, name);
});

test('malformed matches are refused with a message naming the problem', () => {
  const deep = Array.from({ length: 20 }).reduce<Match>((m) => not(m), method('GET'));
  const cases: Array<[Match, RegExp]> = [
    [all({ match: undefined }), /empty match/],
    [{ match: { $case: 'source', value: { match: undefined } } }, /empty tcp match/],
    [{ match: { $case: 'source', value: { match: { $case: 'netmask', value: { ip: undefined, mask: 8 } } } } }, /netmask without an address/],
    [netmask('source', '10.0.0.0', 33), /longer than the address/],
    [netmask('source', 'fd00::', 129), /longer than the address/],
    [ports('destination', 9000, 8000), /not within 1-65535 in order/],
    [ports('destination', 0, 10), /not within 1-65535/],
    [ports('destination', 10, 70000), /not within 1-65535/],
    [{ match: { $case: 'http', value: { match: undefined } } }, /empty http match/],
    [{ match: { $case: 'http', value: { match: { $case: 'path', value: { match: undefined } } } } }, /empty path match/],
    [{ match: { $case: 'http', value: { match: { $case: 'method', value: { type: undefined } } } } }, /without a method/],
    [dstLabel('', 'x'), /label match without a key/],
    [deep, /nested deeper than 16/],
  ];
  for (const [match, message] of cases) {
    const result = compileMatch(match);
    assert.equal(typeof result, 'string', `refused: ${message}`);
    assert.match(result as string, /^invalid match: /);
    assert.match(result as string, message);
  }
});
