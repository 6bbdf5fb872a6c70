'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const { once } = require('node:events');
const path = require('node:path');
const { Writable } = require('node:stream');
const { setTimeout: sleep } = require('node:timers/promises');
const { createLogger } = require('../src/logger');

function capture(level) {
  const lines = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { log: createLogger({ level, stream }), lines };
}

test('a line is one JSON object: time (ISO 8601, UTC), level by name, msg, then the fields', async () => {
  const { log, lines } = capture('info');
  log.info({ request_id: 'r1', status: 200, user_agent: 'a "quoted" agent' }, 'request');
  log.error({ error: 'boom' }, 'unhandled error');
  await sleep(10);
  assert.deepEqual(Object.keys(lines[0]).sort(), ['level', 'msg', 'request_id', 'status', 'time', 'user_agent']);
  assert.match(lines[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual([lines[0].level, lines[0].msg, lines[0].user_agent], ['info', 'request', 'a "quoted" agent']);
  assert.deepEqual([lines[1].level, lines[1].error], ['error', 'boom']);
});

test('the time is the time of the line, to the millisecond', async () => {
  const { log, lines } = capture('info');
  const before = Date.now();
  log.info('first');
  await sleep(25);
  log.info('second');
  const after = Date.now();
  await sleep(10);
  const [t1, t2] = lines.map((l) => Date.parse(l.time));
  assert.ok(before <= t1 && t1 < t2 && t2 <= after, `${before} <= ${t1} < ${t2} <= ${after}`);
  assert.ok(t2 - t1 >= 20, 'the second line carries its own, later time');
});

test('lines below the level are not written', async () => {
  const { log, lines } = capture('warn');
  log.debug('d');
  log.info('i');
  log.warn('w');
  await sleep(10);
  assert.deepEqual(lines.map((l) => l.msg), ['w']);
  assert.equal(log.isLevelEnabled('info'), false);
});

test('on stdout, lines logged just before process.exit are all written (batched destination)', () => {
  const script = `const { createLogger } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'logger.js'))});
    const log = createLogger({ level: 'info' });
    for (let i = 0; i < 5000; i++) log.info({ i }, 'request');
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000, maxBuffer: 64 * 1024 * 1024 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 5000);
  assert.deepEqual(lines.map((l) => l.i), Array.from({ length: 5000 }, (_, i) => i));
});

test('on stdout, a line logged while traffic is light is written within the flush period (100 ms)', { timeout: 10_000 }, async () => {
  const script = `const { createLogger } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'logger.js'))});
    const log = createLogger({ level: 'info' });
    setTimeout(() => log.info({ at: Date.now() }, 'alone'), 200);
    setTimeout(() => {}, 5000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [chunk] = await once(child.stdout, 'data');
    const line = JSON.parse(chunk.toString());
    const late = Date.now() - line.at;
    assert.equal(line.msg, 'alone');
    assert.ok(late < 1000, `written ${late} ms after it was logged, the process still running`);
    assert.equal(child.exitCode, null);
  } finally {
    child.kill();
  }
});
