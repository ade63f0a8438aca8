// The dashboard's data: GETs of the metrics API (same origin), polling hooks that keep the last good
// answer while a poll fails, and the tap stream (newline-delimited JSON over a streamed fetch).
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiErrorBody } from '../../src/controller/metrics-api/types.js';
import type { TapLine } from '../../src/controller/tap/types.js';

export type Params = Readonly<Record<string, string | boolean | undefined>>;

export function apiUrl(path: string, params: Params = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== false) q.set(k, String(v));
  const qs = q.toString();
  return `/api/v1/${path}${qs ? `?${qs}` : ''}`;
}

/** GETs an API path; a non-2xx answer throws the API's own message. */
export async function get<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  const res = await fetch(apiUrl(path, params), signal ? { signal } : {});
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`the API answered ${res.status} with something other than JSON`);
  }
  if (!res.ok) throw new Error((body as Partial<ApiErrorBody>).error?.message ?? `the API answered ${res.status}`);
  return body as T;
}

export interface Polled<T> {
  /** The last good answer (kept while later polls fail). */
  readonly data: T | undefined;
  /** Why the last poll failed, if it did. */
  readonly error: string | undefined;
  /** When the last good answer arrived, ms since the epoch. */
  readonly at: number | undefined;
}

/** Polls `path` every `everyMs` while mounted; a change of `key` (path and params) starts over. */
export function usePoll<T>(path: string, params: Params, everyMs: number, paused = false): Polled<T> {
  const key = apiUrl(path, params);
  const [state, setState] = useState<Polled<T>>({ data: undefined, error: undefined, at: undefined });
  const keyRef = useRef(key);
  useEffect(() => {
    if (keyRef.current !== key) {
      keyRef.current = key;
      setState({ data: undefined, error: undefined, at: undefined });
    }
    if (paused) return;
    const abort = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      try {
        const data = await get<T>(path, params, abort.signal);
        setState({ data, error: undefined, at: Date.now() });
      } catch (err) {
        if (abort.signal.aborted) return;
        setState((s) => ({ ...s, error: (err as Error).message }));
      }
      if (!abort.signal.aborted) timer = setTimeout(tick, everyMs);
    };
    void tick();
    return () => {
      abort.abort();
      if (timer) clearTimeout(timer);
    };
  }, [key, everyMs, paused]);
  return state;
}

/**
 * Streams tap lines for `params` until `signal` aborts; `onLine` gets each one. Resolves when the stream
 * ends, rejects with the API's message when it is refused.
 */
export async function tapStream(params: Params, onLine: (line: TapLine) => void, signal: AbortSignal): Promise<void> {
  const res = await fetch(apiUrl('tap', params), { signal });
  if (!res.ok || !res.body) {
    const text = await res.text();
    let message = `tap answered ${res.status}`;
    try {
      message = (JSON.parse(text) as ApiErrorBody).error.message;
    } catch {
      /* not JSON: keep the status */
    }
    throw new Error(message);
  }
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffered += value;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.trim()) onLine(JSON.parse(line) as TapLine);
    }
  }
}
