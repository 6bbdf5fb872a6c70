'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Writable } = require('node:stream');
const { loadConfig } = require('../src/config');
const { start } = require('../src/server');
const { get } = require('./support/helpers');

// One in-process app for this file, its log lines captured.
const logs = [];
const stream = new Writable({
  write(chunk, _enc, cb) {
    for (const line of chunk.toString().split('\n').filter(Boolean)) logs.push(JSON.parse(line));
    cb();
  },
});
const config = loadConfig({ HOST: '127.0.0.1', PORT: '0', DEBUG_ROUTES: 'true', SHUTDOWN_DELAY_MS: '0' });
const service = start(config, { stream });
let port;

test.before(async () => { port = await service.listening; });
test.after(async () => { assert.equal(await service.shutdown('test end'), 0); });

test('GET / answers 200 "Hello OUI!" (the original contract)', async () => {
  const r = await get(port, '/');
  assert.equal(r.status, 200);
  assert.equal(r.body, 'Hello OUI!');
  assert.equal(r.headers['x-powered-by'], undefined);
  assert.equal(r.headers.etag, undefined, 'no ETag: no client of the app makes conditional requests');
});

test('GET /healthz answers 200 "OK"', async () => {
  const r = await get(port, '/healthz');
  assert.deepEqual([r.status, r.body], [200, 'OK']);
});

test('GET /readyz answers 200 while serving', async () => {
  const r = await get(port, '/readyz');
  assert.deepEqual([r.status, r.body], [200, 'OK']);
});

test('the server keeps idle connections longer than the proxies in front (65s > 60s)', () => {
  assert.equal(service.server.keepAliveTimeout, 65_000);
  assert.ok(service.server.headersTimeout > service.server.keepAliveTimeout);
});

test('unknown paths answer 404', async () => {
  const r = await get(port, '/nope');
  assert.equal(r.status, 404);
});

test('a request id is echoed or generated', async () => {
  const r = await get(port, '/healthz');
  assert.match(r.headers['x-request-id'], /^[0-9a-f-]{36}$/);
});

test('/metrics exposes request counts, durations, errors and process metrics', async () => {
  await get(port, '/');
  await get(port, '/');
  await get(port, '/nope');
  const e = await get(port, '/debug/error');
  assert.equal(e.status, 500);
  const r = await get(port, '/metrics');
  assert.equal(r.status, 200);
  assert.match(r.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const m = r.body;
  const count = (labels) => {
    const line = m.split('\n').find((l) => l.startsWith(`http_requests_total{${labels}}`));
    return line ? Number(line.split(' ').pop()) : 0;
  };
  assert.ok(count('method="GET",route="/",status_code="200"') >= 2, m);
  assert.ok(count('method="GET",route="unmatched",status_code="404"') >= 1);
  assert.ok(count('method="GET",route="/debug/error",status_code="500"') >= 1);
  assert.match(m, /^http_request_errors_total\{method="GET",route="\/debug\/error"\} 1$/m);
  assert.match(m, /^http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/",status_code="200"\} \d+$/m);
  assert.match(m, /^http_request_duration_seconds_count\{method="GET",route="\/",status_code="200"\} \d+$/m);
  assert.match(m, /^# TYPE http_request_duration_seconds histogram$/m);
  assert.match(m, /^process_cpu_seconds_total \d/m);
  assert.match(m, /^process_resident_memory_bytes \d+/m);
  assert.match(m, /^nodejs_eventloop_lag_seconds /m);
  assert.match(m, new RegExp(`^app_info\\{version="2\\.0\\.0",node_version="${process.versions.node.replace(/\./g, '\\.')}"\\} 1$`, 'm'));
});

test('each request is logged as one JSON line; probes only at debug level', async () => {
  await get(port, '/?x=1');
  await get(port, '/healthz');
  const line = logs.findLast((l) => l.msg === 'request' && l.path === '/');
  assert.ok(line, JSON.stringify(logs));
  assert.equal(line.level, 'info');
  assert.equal(line.method, 'GET');
  assert.equal(line.route, '/');
  assert.equal(line.status, 200);
  assert.equal(typeof line.duration_ms, 'number');
  assert.equal(line.remote_addr, '127.0.0.1');
  assert.ok(!Number.isNaN(Date.parse(line.time)));
  assert.equal(logs.find((l) => l.msg === 'request' && l.path === '/healthz'), undefined,
    'probe requests are not logged at level info by default');
  const err = logs.find((l) => l.msg === 'unhandled error');
  assert.equal(err.level, 'error');
  assert.match(err.stack, /deliberate error/);
});

test('the debug routes do not exist unless DEBUG_ROUTES is on', async () => {
  const quiet = start(loadConfig({ HOST: '127.0.0.1', PORT: '0', SHUTDOWN_DELAY_MS: '0', LOG_LEVEL: 'silent' }));
  const p = await quiet.listening;
  assert.equal((await get(p, '/debug/slow?ms=1')).status, 404);
  assert.equal((await get(p, '/debug/error')).status, 404);
  assert.equal(await quiet.shutdown('test end'), 0);
});
