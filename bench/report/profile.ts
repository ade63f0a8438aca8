// Summarizes V8 CPU profiles (.cpuprofile files written by `node --cpu-prof`): self time per function,
// the hottest first, so a benchmark run points at the proxy's hot spots.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Functions by self time; `share` is of the busy time (samples outside "(idle)"), which is what a proxy spends. */
export function topFunctions(profile: CpuProfile, limit = 20): Array<{ name: string; selfMs: number; share: number }> {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    if (!node || node.callFrame.functionName === '(idle)') return;
    total += us;
    const f = node.callFrame;
    const where = f.url ? `${f.url.replace(/^.*\/(dist|node_modules)\//, '$1/')}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
    self.set(key, (self.get(key) ?? 0) + us);
  });
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, selfMs: us / 1000, share: total > 0 ? us / total : 0 }));
}

export function summarizeProfiles(dir: string, limit = 20): string {
  if (!existsSync(dir)) return `no CPU profiles in ${dir}`;
  const files = readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  const out: string[] = [];
  for (const f of files) {
    const profile = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    out.push(`CPU profile ${join(dir, f)}: top ${limit} functions by self time (% of busy time)`);
    for (const t of topFunctions(profile, limit)) out.push(`  ${(t.share * 100).toFixed(1).padStart(5)} %  ${t.selfMs.toFixed(0).padStart(7)} ms  ${t.name}`);
  }
  return out.join('\n') || `no CPU profiles in ${dir}`;
}

// `node dist/bench/report/profile.js DIR_OR_FILE [N]` prints the summary of existing profiles.
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/dist\//, '/dist/'))) {
  const target = process.argv[2] ?? 'bench/results/profiles';
  const limit = Number(process.argv[3] ?? 25);
  if (target.endsWith('.cpuprofile')) {
    const profile = JSON.parse(readFileSync(target, 'utf8')) as CpuProfile;
    for (const t of topFunctions(profile, limit)) console.log(`${(t.share * 100).toFixed(1).padStart(5)} %  ${t.selfMs.toFixed(0).padStart(7)} ms  ${t.name}`);
  } else console.log(summarizeProfiles(target, limit));
}
