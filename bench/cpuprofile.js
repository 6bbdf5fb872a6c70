'use strict';
// Where the time went in a V8 CPU profile (node --cpu-prof), each figure a share of the busy
// time (idle left out): by the code it was spent in and by function (self time: a function's
// callees count for themselves), then the app's own functions with their callees (total time:
// what the request handler, the metrics and the log line cost, whoever does the work).
// Samples count from the first request on (Node's parserOnIncoming on the stack): the start-up
// (loading and compiling modules) is left out.
//   node bench/cpuprofile.js FILE.cpuprofile [TOP]
const fs = require('node:fs');

const [file, top = '12'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/cpuprofile.js FILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));
const parents = new Map();
for (const n of profile.nodes) for (const child of n.children || []) parents.set(child, n.id);

// The code a frame belongs to: an npm package, a file of the app, a module of Node itself, or
// V8/native work named by the frame (garbage collector, the socket's writev, ...).
function owner({ url, functionName }) {
  const pkg = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (pkg) return `npm ${pkg[1]}`;
  if (url.startsWith('node:')) return `node ${url.slice(5).replace(/^internal\//, '')}`;
  const own = url.match(/\/app\/((?:src\/)?[^/]+\.js)$/);
  if (own) return `app ${own[1]}`;
  return `native ${functionName || '(anonymous)'}`;
}

const label = (frame, o) => `${frame.functionName || '(anonymous)'}  ${o}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
const byOwner = new Map();
const byFunction = new Map();
const appTotal = new Map();
let busy = 0;
let serving = false;
const stack = (id) => {
  const frames = [];
  for (let up = id; up !== undefined; up = parents.get(up)) frames.push(nodes.get(up));
  return frames;
};
profile.samples.forEach((id, i) => {
  const frame = nodes.get(id);
  const dt = profile.timeDeltas[i] || 0;
  serving ||= stack(id).some((f) => f.functionName === 'parserOnIncoming');
  if (!serving || frame.functionName === '(idle)') return;
  busy += dt;
  const o = owner(frame);
  byOwner.set(o, (byOwner.get(o) || 0) + dt);
  const f = label(frame, o);
  byFunction.set(f, (byFunction.get(f) || 0) + dt);
  const seen = new Set();
  for (const caller of stack(id)) {
    const co = owner(caller);
    if (co.startsWith('app ')) seen.add(label(caller, co));
  }
  for (const a of seen) appTotal.set(a, (appTotal.get(a) || 0) + dt);
});

const show = (title, map) => {
  process.stdout.write(`  ${title}\n`);
  for (const [name, t] of [...map].sort((a, b) => b[1] - a[1]).slice(0, Number(top))) {
    process.stdout.write(`    ${((100 * t) / busy).toFixed(1).padStart(5)} %  ${name}\n`);
  }
};
process.stdout.write(`  busy ${(busy / 1e6).toFixed(2)} s sampled from the first request on\n`);
show('self time by code:', byOwner);
show('self time by function:', byFunction);
show("the app's own functions, total time (with their callees):", appTotal);
