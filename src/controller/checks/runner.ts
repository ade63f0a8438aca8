// Runs check categories in order and reports each check as success, warning or error with its hint; a
// fatal failure skips the rest of its category and the categories that require it.
import type { CheckCategoryResult, CheckLine, ChecksResponse } from '../metrics-api/types.js';
import type { CheckCategory, CheckContext } from './check.js';

export interface RunOptions {
  /** Include the data-plane categories (`fathom check --proxy`). */
  readonly proxy: boolean;
}

export async function runChecks(categories: readonly CheckCategory[], ctx: CheckContext, opts: RunOptions): Promise<ChecksResponse> {
  const out: CheckCategoryResult[] = [];
  const fatallyFailed = new Map<string, CheckLine>();
  for (const category of categories) {
    if (category.proxyOnly && !opts.proxy) continue;
    const blocker = category.requires === undefined ? undefined : fatallyFailed.get(category.requires);
    if (blocker) {
      out.push({
        name: category.name,
        checks: [{ description: `${category.name} checks`, result: 'warning', error: `skipped because "${blocker.description}" failed`, hint: blocker.hint! }],
      });
      continue;
    }
    const lines: CheckLine[] = [];
    for (const check of category.checks) {
      if (check.applies && !check.applies(ctx)) continue;
      let problem: string | undefined;
      try {
        problem = await check.run(ctx);
      } catch (err) {
        problem = err instanceof Error ? err.message : String(err);
      }
      if (problem === undefined) {
        lines.push({ description: check.description, result: 'success' });
        continue;
      }
      const line: CheckLine = { description: check.description, result: check.warning ? 'warning' : 'error', error: problem, hint: check.hint };
      lines.push(line);
      if (check.fatal) {
        fatallyFailed.set(category.name, line);
        break;
      }
    }
    if (lines.length > 0) out.push({ name: category.name, checks: lines });
  }
  return { success: out.every((c) => c.checks.every((l) => l.result !== 'error')), categories: out };
}
