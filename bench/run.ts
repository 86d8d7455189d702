/**
 * `npm run bench [-- --quick]`: runs the benchmarks and writes bench/results/<time>.json plus a
 * markdown table to stdout. Figures are medians of several runs on fresh databases.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { runStoreMicro } from './store-micro.ts';
import { spread, type Measurement } from './stats.ts';

const quick = process.argv.includes('--quick');
const options = quick ? { tasks: 5000, runs: 1, claimers: 4, batch: 50 } : { tasks: 20_000, runs: 3, claimers: 4, batch: 50 };

const started = Date.now();
const progress = (label: string) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${label}\n`);

const results: Measurement[] = [...(await runStoreMicro(options, progress))];

const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
const file = new URL(`./results/${new Date().toISOString().replaceAll(':', '-')}.json`, import.meta.url);
writeFileSync(file, JSON.stringify({ machine, quick, options, results }, null, 2));

console.log(`\nMachine: ${machine.cpus} × ${machine.cpu}, ${machine.memoryGiB} GiB, Node ${machine.node}\n`);
console.log('| workload | system | median | spread | samples |');
console.log('|---|---|---:|---:|---:|');
for (const r of results) {
  console.log(`| ${r.workload} | ${r.system} | ${Math.round(r.median).toLocaleString('en-US')} ${r.unit} | ±${(spread(r.samples) * 50).toFixed(1)}% | ${r.samples.length} |`);
}
