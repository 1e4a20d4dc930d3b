// admin_page — see admin_page.hpp. The page keeps the last 150 samples
// (5 minutes at one every 2 s) in the browser and draws them on canvases;
// rates are differences between samples of the nodes' counters.
#include "src/http/admin_page.hpp"

namespace switchboard::http {

const char* admin_page_html() {
  return R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard — cluster</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:0 0 .3em} .muted{color:#777}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:1em}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:.8em}
.card h2{font-size:1em;margin:0 0 .5em} canvas{width:100%;height:160px}
table{border-collapse:collapse;width:100%;font-size:12px}
td,th{border-bottom:1px solid #eee;padding:2px 6px;text-align:right}
th:first-child,td:first-child{text-align:left} .legend span{margin-right:1em}
.err{color:#b00}
</style></head><body>
<h1>Switchboard cluster</h1>
<div class="muted" id="status">loading…</div>
<div class="legend" id="legend"></div>
<div class="grid">
 <div class="card"><h2>Live connections (WS + SSE)</h2><canvas id="c_conn"></canvas></div>
 <div class="card"><h2>Deliveries per second</h2><canvas id="c_deliv"></canvas></div>
 <div class="card"><h2>Cache hit ratio</h2><canvas id="c_hit"></canvas></div>
 <div class="card"><h2>Deepest mailbox (any actor kind)</h2><canvas id="c_mbox"></canvas></div>
</div>
<div class="card" style="margin-top:1em"><h2>Actors per node</h2><div id="actors"></div></div>
<script>
"use strict";
const KEEP = 150, EVERY_MS = 2000;
const colors = ["#1f77b4","#d62728","#2ca02c","#9467bd","#ff7f0e","#8c564b","#17becf"];
const series = {conn:{}, deliv:{}, hit:{}, mbox:{}};
const last = {};
const colorOf = (() => { const m = {}; let n = 0; return id => m[id] ??= colors[n++ % colors.length]; })();
function push(kind, node, t, v) {
  const s = (series[kind][node] ??= []);
  s.push([t, v]); while (s.length > KEEP) s.shift();
}
function draw(id, kind, fmt) {
  const c = document.getElementById(id), dpr = devicePixelRatio || 1;
  c.width = c.clientWidth * dpr; c.height = c.clientHeight * dpr;
  const g = c.getContext("2d"); g.scale(dpr, dpr);
  const w = c.clientWidth, h = c.clientHeight, pad = 34;
  const all = Object.values(series[kind]).flat();
  if (!all.length) return;
  const t1 = Math.max(...all.map(p => p[0])), t0 = t1 - KEEP * EVERY_MS;
  const vmax = Math.max(1e-9, ...all.map(p => p[1])) * 1.1;
  g.strokeStyle = "#ccc"; g.fillStyle = "#777"; g.font = "10px sans-serif";
  for (let i = 0; i <= 4; i++) {
    const y = h - 14 - (h - 24) * i / 4;
    g.beginPath(); g.moveTo(pad, y); g.lineTo(w, y); g.stroke();
    g.fillText(fmt(vmax * i / 4), 0, y + 3);
  }
  g.fillText("−5 min", pad, h - 2); g.fillText("now", w - 22, h - 2);
  for (const [node, pts] of Object.entries(series[kind])) {
    g.strokeStyle = colorOf(node); g.lineWidth = 1.5; g.beginPath();
    pts.forEach(([t, v], i) => {
      const x = pad + (w - pad) * (t - t0) / (t1 - t0), y = h - 14 - (h - 24) * v / vmax;
      i ? g.lineTo(x, y) : g.moveTo(x, y);
    });
    g.stroke();
  }
}
const num = v => v >= 1000 ? (v / 1000).toFixed(1) + "k" : (+v.toFixed(2)).toString();
const pct = v => (v * 100).toFixed(0) + "%";
function sample(doc) {
  const now = Date.now();
  for (const n of doc.nodes) {
    const id = n.node_id, prev = last[id];
    push("conn", id, now, n.connections.ws + n.connections.sse);
    push("mbox", id, now, Math.max(...Object.values(n.actors).map(a => a.mailbox_max)));
    const c = n.cache, looked = c.hits + c.misses + c.stale + c.coalesced;
    if (prev) {
      const dt = (now - prev.at) / 1000;
      push("deliv", id, now, Math.max(0, (n.pubsub.delivered - prev.delivered) / dt));
      const dl = looked - prev.looked, dh = c.hits + c.stale + c.coalesced - prev.served;
      push("hit", id, now, dl > 0 ? dh / dl : (series.hit[id]?.at(-1)?.[1] ?? 0));
    }
    last[id] = {at: now, delivered: n.pubsub.delivered, looked, served: c.hits + c.stale + c.coalesced};
  }
  document.getElementById("legend").innerHTML = doc.nodes.map(n =>
    `<span style="color:${colorOf(n.node_id)}">■ ${n.node_id}</span>`).join("");
  const kinds = Object.keys(doc.nodes[0]?.actors ?? {});
  document.getElementById("actors").innerHTML = "<table><tr><th>node</th>" +
    kinds.map(k => `<th>${k}</th>`).join("") + "</tr>" +
    doc.nodes.map(n => `<tr><td>${n.node_id}</td>` + kinds.map(k => {
      const a = n.actors[k]; return `<td title="mailbox ${a.mailbox_max}, processed ${a.processed}">${a.count}</td>`;
    }).join("") + "</tr>").join("") + "</table>";
  draw("c_conn", "conn", num); draw("c_deliv", "deliv", num);
  draw("c_hit", "hit", pct); draw("c_mbox", "mbox", num);
}
async function tick() {
  const status = document.getElementById("status");
  try {
    const res = await fetch("/stats/cluster", {credentials: "same-origin", cache: "no-store"});
    if (!res.ok) throw new Error("HTTP " + res.status);
    const doc = await res.json();
    sample(doc);
    status.className = "muted";
    status.textContent = `${doc.nodes.length} node(s) · updated ${new Date().toLocaleTimeString()} · every ${EVERY_MS / 1000} s`;
  } catch (e) {
    status.className = "err"; status.textContent = "cannot read /stats/cluster: " + e.message;
  }
}
tick(); setInterval(tick, EVERY_MS);
</script></body></html>
)html";
}

} // namespace switchboard::http
