// `/checks`: the same checks as `fathom check`, grouped by category, each with its hint when it fails.
import type { ChecksResponse } from '../../../src/controller/metrics-api/types.js';
import { useState } from 'preact/hooks';
import { usePoll } from '../api.js';
import { Section } from '../components/status.js';

const MARK = { success: '√', warning: '‼', error: '×' } as const;

export function ChecksPage() {
  // The browser's clock is checked against the control plane's as the CLI's is (taken once: a new value
  // per render would be a new request per render).
  const [clientTime] = useState(() => String(Date.now()));
  const checks = usePoll<ChecksResponse>('checks', { proxy: true, 'client-time': clientTime }, 15_000);
  const data = checks.data;
  return (
    <>
      <h1>Checks</h1>
      {data && (
        <p class={`verdict ${data.success ? 'good' : 'bad'}`} data-testid="checks-verdict">
          {data.success ? 'Status check results are √' : 'Some checks failed: see the hints below'}
        </p>
      )}
      {checks.error && !data && <p class="error" role="alert">{checks.error}</p>}
      {data?.categories.map((c) => (
        <Section key={c.name} title={c.name} polled={checks}>
          <ul class="checks">
            {c.checks.map((line) => (
              <li key={line.description} class={line.result}>
                <span class="mark">{MARK[line.result]}</span> {line.description}
                {line.error && <div class="why">{line.error}</div>}
                {line.hint && <div class="hint">see: {line.hint}</div>}
              </li>
            ))}
          </ul>
        </Section>
      ))}
    </>
  );
}
