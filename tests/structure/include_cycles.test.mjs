// include_cycles — the folders are layers (issue 16): no include cycle
// between any two folders of include/, src/ and actors/, and the contracts
// in include/switchboard/ include nothing of the layers above them, and
// every actor kind has a unit test (one in tests/unit/ includes it). Reads
// the `#include "…"` lines only; a failure names every folder of a cycle
// and the includes that close it.
// Never: builds, or looks at system includes (<…>).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function sources(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sources(path));
    else if (/\.(hpp|cpp)$/.test(name)) out.push(path);
  }
  return out;
}

/** Folder → Map(folder it includes → [the include lines, as "file: target"]). */
function folderGraph() {
  const graph = new Map();
  for (const top of ['include', 'src', 'actors'])
    for (const file of sources(join(root, top))) {
      const from = relative(root, dirname(file));
      if (!graph.has(from)) graph.set(from, new Map());
      for (const m of readFileSync(file, 'utf8').matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)) {
        // Targets are written from the root (src/…, actors/…) or from include/.
        const target = m[1].startsWith('switchboard/') ? `include/${m[1]}` : m[1];
        const to = dirname(target);
        if (to === from || !/^(include|src|actors)\//.test(target)) continue;
        if (!graph.get(from).has(to)) graph.get(from).set(to, []);
        graph.get(from).get(to).push(`${relative(root, file)}: ${m[1]}`);
      }
    }
  return graph;
}

/** Tarjan's strongly connected components with more than one folder. */
function cycles(graph) {
  let index = 0;
  const stack = [];
  const info = new Map();
  const found = [];
  const visit = (v) => {
    info.set(v, { index, low: index, onStack: true });
    index++;
    stack.push(v);
    for (const w of (graph.get(v) ?? new Map()).keys()) {
      if (!info.has(w)) {
        visit(w);
        info.get(v).low = Math.min(info.get(v).low, info.get(w).low);
      } else if (info.get(w).onStack) info.get(v).low = Math.min(info.get(v).low, info.get(w).index);
    }
    if (info.get(v).low === info.get(v).index) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        info.get(w).onStack = false;
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!info.has(v)) visit(v);
  return found;
}

test('no include cycle between folders', () => {
  const graph = folderGraph();
  const report = cycles(graph).map((component) => {
    const edges = [];
    for (const from of component)
      for (const [to, lines] of graph.get(from) ?? [])
        if (component.includes(to)) edges.push(`  ${from} → ${to}: ${lines.join(', ')}`);
    return `${component.join(' ↔ ')}\n${edges.join('\n')}`;
  });
  assert.deepEqual(report, [], `include cycles between folders:\n${report.join('\n')}`);
});

test('include/switchboard/ (the contracts) includes nothing of the layers above it', () => {
  const graph = folderGraph();
  const upward = [...(graph.get('include/switchboard') ?? new Map())].flatMap(([, lines]) => lines);
  assert.deepEqual(upward, [], `contracts reaching up:\n${upward.join('\n')}`);
});

test('every actor kind (folder under actors/) has a unit test on the deterministic scheduler', () => {
  const tested = new Set();
  for (const file of sources(join(root, 'tests', 'unit')))
    for (const m of readFileSync(file, 'utf8').matchAll(/^\s*#\s*include\s+"actors\/([^/"]+)\//gm)) tested.add(m[1]);
  const kinds = readdirSync(join(root, 'actors')).filter((d) => statSync(join(root, 'actors', d)).isDirectory());
  assert.deepEqual(kinds.filter((k) => !tested.has(k)), [], 'actor folders no tests/unit/*.cpp includes');
});
