// bench/hostile/table — prints the table of a hostile-suite report (one JSON
// line per attack, written by tests/integration/lib/hostile.mjs when
// SB_HOSTILE_REPORT is set) as Markdown, the form docs/reliability.md uses.
// Never: changes the report, or judges it (the tests' assertions did).
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) throw new Error('usage: node bench/hostile/table.mjs REPORT.jsonl');
const rows = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
const outcome = (o) => JSON.stringify(o ?? null).replace(/\|/g, '\\|').slice(0, 160);
console.log('| attack | s | rounds | RSS baseline → peak (MiB) | growth (MiB) | bystander requests (failed) | bystander max / p99 (ms) | attacker (first round) |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows)
  console.log(
    `| ${r.attack} | ${r.seconds} | ${r.rounds} | ${r.baseline_mib} → ${r.peak_mib} | ${r.growth_mib} | ${r.bystander_requests} (${r.bystander_failures}) | ${r.bystander_max_ms} / ${r.bystander_p99_ms} | ${outcome(r.outcome)}${r.aborted ? ` **${r.aborted}**` : ''} |`,
  );
