// The hottest functions of a V8 CPU profile (node --cpu-prof), by self time,
// and by total time for cmg's own functions: what the closing notes quote.
// Usage: node bench/profile-top.mjs FILE.cpuprofile [N]
import { readFileSync } from 'node:fs';

const [file, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 25);
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map();
// Sample deltas are the time each sample stands for.
for (const [i, id] of profile.samples.entries())
  selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
const parent = new Map();
for (const node of profile.nodes) for (const c of node.children ?? []) parent.set(c, node.id);
const label = (node) => {
  const f = node.callFrame;
  const where = f.url
    ? `${f.url.replace(/^.*\/(node_modules\/|src\/|dist\/|node:)/, '$1')}:${f.lineNumber + 1}`
    : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};
const self = new Map();
const total = new Map();
let all = 0;
for (const [id, us] of selfUs) {
  all += us;
  const node = byId.get(id);
  self.set(label(node), (self.get(label(node)) ?? 0) + us);
  // Total time: every distinct function on the stack once.
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const l = label(byId.get(at));
    if (seen.has(l)) continue;
    seen.add(l);
    total.set(l, (total.get(l) ?? 0) + us);
  }
}
const pct = (us) => `${((100 * us) / all).toFixed(1).padStart(5)}%`;
console.log(`${file}: ${(all / 1e6).toFixed(2)} s sampled\n\nself time:`);
for (const [l, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${pct(us)}  ${l}`);
console.log('\ntotal time, cmg code:');
for (const [l, us] of [...total]
  .filter(([l]) => /dist\/|src\//.test(l))
  .sort((a, b) => b[1] - a[1])
  .slice(0, n))
  console.log(`${pct(us)}  ${l}`);
