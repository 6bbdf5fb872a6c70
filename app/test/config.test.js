'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const { loadConfig, ConfigError } = require('../src/config');
const { ENTRY } = require('./support/helpers');

test('defaults keep the original contract (PORT 8000) and outlast proxy keep-alives', () => {
  const c = loadConfig({});
  assert.equal(c.port, 8000);
  assert.equal(c.host, '0.0.0.0');
  assert.ok(c.keepAliveTimeoutMs > 60_000, 'longer than nginx/ALB upstream keep-alive (60s)');
  assert.ok(c.shutdownDelayMs < c.shutdownTimeoutMs);
  assert.ok(c.shutdownTimeoutMs < 30_000, 'below the default terminationGracePeriodSeconds');
  assert.equal(c.debugRoutes, false);
});

test('values are read from the environment', () => {
  const c = loadConfig({ PORT: '3000', KEEP_ALIVE_TIMEOUT_MS: '75000', LOG_LEVEL: 'warn', DEBUG_ROUTES: 'true' });
  assert.deepEqual([c.port, c.keepAliveTimeoutMs, c.logLevel, c.debugRoutes], [3000, 75000, 'warn', true]);
});

for (const [name, value] of [
  ['PORT', 'abc'], ['PORT', '70000'], ['PORT', '-1'], ['PORT', '80.5'],
  ['KEEP_ALIVE_TIMEOUT_MS', '1e3'], ['SHUTDOWN_TIMEOUT_MS', ''], ['LOG_LEVEL', 'loud'],
  ['LOG_PROBES', 'maybe'], ['HOST', ' '],
]) {
  test(`${name}=${JSON.stringify(value)} is refused, naming the variable`, () => {
    assert.throws(() => loadConfig({ [name]: value }), (err) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.variable, name);
      assert.match(err.message, new RegExp(`^invalid configuration: ${name}=`));
      return true;
    });
  });
}

test('a shutdown delay not shorter than the deadline is refused', () => {
  assert.throws(() => loadConfig({ SHUTDOWN_DELAY_MS: '30000', SHUTDOWN_TIMEOUT_MS: '20000' }),
    /SHUTDOWN_DELAY_MS=.*less than SHUTDOWN_TIMEOUT_MS/);
});

test('the process exits non-zero with one clear line on a bad value (PORT=abc)', () => {
  const r = spawnSync(process.execPath, [ENTRY], { env: { PATH: process.env.PATH, PORT: 'abc' }, encoding: 'utf8', timeout: 10_000 });
  assert.notEqual(r.status, 0);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line expected, got: ${r.stderr}`);
  assert.match(lines[0], /PORT="abc".*integer between 0 and 65535/);
});
