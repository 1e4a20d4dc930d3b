// progress — the one-line-per-step progress the driver writes to stderr.
// Owns: the wording and number formats of those lines.
// Must never: write to stdout (reserved), or throw on a record missing fields.

const f = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '?');
const int = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US').replace(/,/g, '') : '?');

export const log = (s) => process.stderr.write(`${s}\n`);

/** Why a live step failed, in a few words. */
export function failReason(r, conns) {
  const why = [];
  if (conns && r.conns_up !== undefined && r.conns_up < conns) why.push(`up=${r.conns_up}/${conns}`);
  if (r.lost) why.push(`lost=${r.lost}`);
  if (r.publish_errors) why.push(`publish_errors=${r.publish_errors}${r.publish_error_statuses ? ` ${JSON.stringify(r.publish_error_statuses)}` : ""}`);
  if (r.p99_ms >= 200) why.push('p99>=200ms');
  return why.join(' ');
}

export function stepLine(label, r, conns) {
  const verdict = r.pass ? 'PASS' : `FAIL ${failReason(r, conns)}`.trim();
  return `${label} rate=${int(r.rate)}/s deliveries=${int(r.deliveries_per_s)}/s ` +
    `p50=${f(r.p50_ms, 2)}ms p99=${f(r.p99_ms, 2)}ms cpu/delivery=${f(r.cpu_us_per_delivery, 2)}µs ` +
    `cpu/msg=${f(r.cpu_us_per_message, 1)}µs ${verdict}`;
}

export function idleLine(label, r) {
  return `${label} conns=${r.up}/${r.conns} rss=+${f((r.rss_after - r.rss_before) / 1048576, 1)}MB ` +
    `bytes/conn=${int(r.bytes_per_conn)}`;
}

export function duration(s) {
  s = Math.round(s);
  return s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`;
}

export { f as fixed, int };
