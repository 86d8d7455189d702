/**
 * Diagnostic: the functions with the most self time in a V8 .cpuprofile, and the share per file.
 * `node --import tsx bench/tools/profile-summary.ts <file.cpuprofile> [top]`. Profiles come from
 * `BENCH_CPU_PROF=<dir> npm run bench -- ...` (worker processes) or `node --cpu-prof`.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 30);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const self = new Map<number, number>();
profile.samples.forEach((id, n) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[n] ?? 0)));
const total = [...self.values()].reduce((a, b) => a + b, 0);

const shorten = (url: string) => url.replace(/^file:\/\//, '').replace(/.*node_modules\//, 'nm/').replace(/.*\/work\/main\//, '');
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, micros] of self) {
  const frame = byId.get(id)!.callFrame;
  const where = shorten(frame.url) || '(native)';
  const key = `${frame.functionName || '(anonymous)'}  ${where}:${frame.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + micros);
  const fileKey = frame.url ? where.replace(/(nm\/(@[^/]+\/)?[^/]+)\/.*/, '$1') : frame.functionName;
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + micros);
}
const pct = (micros: number) => `${((micros / total) * 100).toFixed(1).padStart(5)}%`;
console.log(`total sampled: ${(total / 1000).toFixed(0)} ms\n\nself time by function:`);
for (const [key, micros] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(micros)}  ${key}`);
console.log('\nself time by file / package:');
for (const [key, micros] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(micros)}  ${key}`);
