'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { setTimeout: sleep } = require('node:timers/promises');
const { spawnApp, get } = require('./support/helpers');

function connectOutcome(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve('connected'); });
    s.on('error', (e) => resolve(e.code));
  });
}

test('SIGTERM: readiness fails, then new connections are refused, the in-flight request completes, exit 0', async () => {
  const app = spawnApp({ DEBUG_ROUTES: 'true', SHUTDOWN_DELAY_MS: '600', SHUTDOWN_TIMEOUT_MS: '10000' });
  const port = await app.port();

  // An idle keep-alive connection, left in the agent's pool after one request.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let idleClosedAt;
  const first = await new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers.connection));
    });
    req.on('socket', (s) => s.on('close', () => { idleClosedAt = Date.now(); }));
    req.on('error', reject);
  });
  assert.equal(first, 'keep-alive');

  const inflight = get(port, '/debug/slow?ms=2000').then((r) => ({ ...r, at: Date.now() }));
  await sleep(300); // let the slow request reach the app
  const signalledAt = Date.now();
  app.child.kill('SIGTERM');
  await app.waitForLog((l) => l.msg.startsWith('shutdown begun'));

  const ready = await get(port, '/readyz');
  assert.equal(ready.status, 503, 'readiness fails as soon as shutdown begins');
  assert.equal(ready.headers.connection, 'close');

  await app.waitForLog((l) => l.msg.startsWith('listener closing'));
  assert.equal(await connectOutcome(port), 'ECONNREFUSED', 'new connections are refused');

  const r = await inflight;
  assert.deepEqual([r.status, r.body], [200, 'slept 2000ms'], 'the in-flight request completes');

  const { code, signal } = await app.exited;
  assert.equal(signal, null);
  assert.equal(code, 0);
  assert.ok(idleClosedAt !== undefined && idleClosedAt < r.at,
    'the idle keep-alive connection was closed by the server before the in-flight request ended');
  const elapsed = Date.now() - signalledAt;
  assert.ok(elapsed < 10_000, `exited before the deadline (${elapsed}ms)`);
  const order = app.lines.filter((l) => l.msg !== 'request').map((l) => l.msg.split(':')[0]);
  assert.deepEqual(order, ['listening', 'shutdown begun', 'listener closing', 'shutdown complete']);
  agent.destroy();
});

test('SIGINT with nothing in flight exits 0 right after the delay', async () => {
  const app = spawnApp({ SHUTDOWN_DELAY_MS: '100' });
  await app.port();
  app.child.kill('SIGINT');
  const { code } = await app.exited;
  assert.equal(code, 0);
  assert.ok(app.lines.some((l) => l.msg === 'shutdown complete'));
});

test('past the deadline, remaining connections are cut and the exit code is 1', async () => {
  const app = spawnApp({ DEBUG_ROUTES: 'true', SHUTDOWN_DELAY_MS: '0', SHUTDOWN_TIMEOUT_MS: '500' });
  const port = await app.port();
  const inflight = get(port, '/debug/slow?ms=5000').then(() => 'answered', (e) => e.code);
  await sleep(300);
  app.child.kill('SIGTERM');
  const { code } = await app.exited;
  assert.equal(code, 1);
  assert.equal(await inflight, 'ECONNRESET');
  assert.ok(app.lines.some((l) => l.msg.startsWith('shutdown deadline reached') && l.level === 'error'));
});
