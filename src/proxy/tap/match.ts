// Compiles a tap Match (model §2.3: all/any/not, source/destination netmask and port range, HTTP scheme,
// method, authority and path, destination and route labels) into a predicate over a TapRequest, once per
// watcher; a malformed Match is an error value naming what is wrong.
import { BlockList, isIP } from 'node:net';
import { HttpMethod_Registered, Scheme_Registered, type HttpMethod, type Scheme } from '../../api/gen/fathom/http_types.js';
import type {
  ObserveRequest_Match as Match,
  ObserveRequest_Match_Http as HttpMatch,
  ObserveRequest_Match_Http_StringMatch as StringMatch,
  ObserveRequest_Match_Label as LabelMatch,
  ObserveRequest_Match_Tcp as TcpMatch,
} from '../../api/gen/fathom/tap.js';
import { ipFromProto } from '../../api/net-addr.js';
import type { TapLabels, TapPeer, TapRequest } from './request.js';

export type Matcher = (req: TapRequest) => boolean;

/** Nesting beyond this is refused: no real filter needs it, and evaluation recurses. */
const MAX_DEPTH = 16;

const ALWAYS: Matcher = () => true;

/**
 * The predicate of `match`; no Match at all matches every request. Errors are values: the message says
 * which part is malformed (an empty Match, a netmask without an address, a port range out of order...).
 */
export function compileMatch(match: Match | undefined): Matcher | string {
  if (match === undefined || match.match === undefined) return ALWAYS;
  try {
    return compile(match, 0);
  } catch (err) {
    return (err as Error).message;
  }
}

function compile(m: Match, depth: number): Matcher {
  if (depth > MAX_DEPTH) invalid(`it is nested deeper than ${MAX_DEPTH} levels`);
  const match = m.match ?? invalid('an empty match (none of all, any, not, source, destination, http, destination_label, route_label)');
  switch (match.$case) {
    case 'all': {
      const parts = match.value.matches.map((p) => compile(p, depth + 1));
      return (req) => parts.every((p) => p(req));
    }
    case 'any': {
      const parts = match.value.matches.map((p) => compile(p, depth + 1));
      return (req) => parts.some((p) => p(req));
    }
    case 'not': {
      const inner = compile(match.value, depth + 1);
      return (req) => !inner(req);
    }
    case 'source': {
      const test = tcp(match.value);
      return (req) => test(req.source);
    }
    case 'destination': {
      const test = tcp(match.value);
      return (req) => test(req.destination);
    }
    case 'http':
      return http(match.value);
    case 'destinationLabel': {
      const test = label(match.value);
      return (req) => test(req.destination.labels);
    }
    case 'routeLabel': {
      const test = label(match.value);
      return (req) => req.routeLabels !== undefined && test(req.routeLabels);
    }
  }
}

function tcp(t: TcpMatch): (peer: TapPeer) => boolean {
  const match = t.match ?? invalid('an empty tcp match (neither netmask nor ports)');
  if (match.$case === 'ports') {
    const { min, max } = match.value;
    const hi = max === 0 ? min : max;
    if (min < 1 || hi > 65535 || hi < min) invalid(`port range ${min}-${max} is not within 1-65535 in order`);
    return (peer) => peer.port >= min && peer.port <= hi;
  }
  const ip = ipFromProto(match.value.ip) ?? invalid('a netmask without an address');
  const family = isIP(ip) === 6 ? 'ipv6' : 'ipv4';
  const mask = match.value.mask;
  if (mask > (family === 'ipv4' ? 32 : 128)) invalid(`netmask ${ip}/${mask} is longer than the address`);
  const net = new BlockList();
  net.addSubnet(ip, mask, family);
  return (peer) => {
    const peerFamily = isIP(peer.ip);
    return peerFamily !== 0 && net.check(peer.ip, peerFamily === 6 ? 'ipv6' : 'ipv4');
  };
}

function http(h: HttpMatch): Matcher {
  const match = h.match ?? invalid('an empty http match (none of scheme, method, authority, path)');
  switch (match.$case) {
    case 'scheme': {
      const scheme = schemeName(match.value);
      return (req) => req.scheme.toLowerCase() === scheme;
    }
    case 'method': {
      const method = methodName(match.value);
      return (req) => req.method === method;
    }
    case 'authority': {
      // Host names are case-insensitive; compare them lower-cased.
      const test = string(match.value, 'authority', (s) => s.toLowerCase());
      return (req) => test(req.authority.toLowerCase());
    }
    case 'path': {
      const test = string(match.value, 'path', (s) => s);
      return (req) => test(req.path);
    }
  }
}

function string(s: StringMatch, what: string, normalise: (s: string) => string): (value: string) => boolean {
  const match = s.match ?? invalid(`an empty ${what} match (neither exact nor prefix)`);
  const expected = normalise(match.value);
  return match.$case === 'exact' ? (value) => value === expected : (value) => value.startsWith(expected);
}

function label(l: LabelMatch): (labels: TapLabels) => boolean {
  if (l.key === '') invalid('a label match without a key');
  return (labels) => labels[l.key] === l.value;
}

/** `GET`, `POST`... for a registered method, the token itself otherwise. */
export function methodName(method: HttpMethod | undefined): string {
  const type = method?.type ?? invalid('a method match without a method');
  if (type.$case === 'unregistered') return type.value;
  const name = HttpMethod_Registered[type.value];
  if (name === undefined || type.value === HttpMethod_Registered.UNRECOGNIZED) invalid(`unknown registered method ${type.value}`);
  return name!;
}

/** `http` or `https` for a registered scheme, the lower-cased text otherwise. */
export function schemeName(scheme: Scheme | undefined): string {
  const type = scheme?.type ?? invalid('a scheme match without a scheme');
  if (type.$case === 'unregistered') return type.value.toLowerCase();
  if (type.value === Scheme_Registered.HTTP) return 'http';
  if (type.value === Scheme_Registered.HTTPS) return 'https';
  return invalid(`unknown registered scheme ${type.value}`);
}

function invalid(why: string): never {
  throw new Error(`invalid match: ${why}`);
}
