'use strict';
// All configuration comes from environment variables, validated once at start.
// A bad value throws a ConfigError whose message is one line naming the variable.

class ConfigError extends Error {
  constructor(variable, value, expected) {
    super(`invalid configuration: ${variable}=${JSON.stringify(value)}: expected ${expected}`);
    this.name = 'ConfigError';
    this.variable = variable;
  }
}

function integer(name, { min, max }) {
  return (raw) => {
    if (!/^\d+$/.test(raw)) throw new ConfigError(name, raw, `an integer between ${min} and ${max}`);
    const value = Number(raw);
    if (value < min || value > max) throw new ConfigError(name, raw, `an integer between ${min} and ${max}`);
    return value;
  };
}

function boolean(name) {
  return (raw) => {
    const v = raw.toLowerCase();
    if (['1', 'true', 'yes', 'on'].includes(v)) return true;
    if (['0', 'false', 'no', 'off', ''].includes(v)) return false;
    throw new ConfigError(name, raw, 'true or false');
  };
}

function oneOf(name, choices) {
  return (raw) => {
    if (!choices.includes(raw)) throw new ConfigError(name, raw, `one of ${choices.join(', ')}`);
    return raw;
  };
}

function nonEmpty(name) {
  return (raw) => {
    if (raw.trim() === '') throw new ConfigError(name, raw, 'a non-empty string');
    return raw;
  };
}

const MS = { min: 0, max: 3_600_000 };

// key: [environment variable, default (as a string, parsed like user input), parser factory]
const SCHEMA = {
  port: ['PORT', '8000', (n) => integer(n, { min: 0, max: 65535 })],
  host: ['HOST', '0.0.0.0', nonEmpty],
  // Longer than the upstream keep-alive of the proxies in front (nginx: 60s, AWS ALB: 60s),
  // so that the proxy, not the app, closes idle connections and never reuses a closed one.
  keepAliveTimeoutMs: ['KEEP_ALIVE_TIMEOUT_MS', '65000', (n) => integer(n, MS)],
  // Readiness already fails during this delay, so load balancers stop sending new requests
  // before the listener closes.
  shutdownDelayMs: ['SHUTDOWN_DELAY_MS', '5000', (n) => integer(n, MS)],
  // Hard deadline, counted from the signal; keep it below Kubernetes'
  // terminationGracePeriodSeconds (30s by default).
  shutdownTimeoutMs: ['SHUTDOWN_TIMEOUT_MS', '25000', (n) => integer(n, MS)],
  logLevel: ['LOG_LEVEL', 'info', (n) => oneOf(n, ['debug', 'info', 'warn', 'error', 'silent'])],
  // Probe requests (/healthz, /readyz, /metrics) are logged at debug level unless this is on.
  logProbes: ['LOG_PROBES', 'false', boolean],
  // Express "trust proxy": whose X-Forwarded-For to believe for the client address in logs.
  trustProxy: ['TRUST_PROXY', 'loopback,linklocal,uniquelocal', nonEmpty],
  // Test-only routes (/debug/slow, /debug/error); never enabled in the deployed manifests.
  debugRoutes: ['DEBUG_ROUTES', 'false', boolean],
};

function loadConfig(env = process.env) {
  const config = {};
  for (const [key, [name, fallback, parser]] of Object.entries(SCHEMA)) {
    const raw = env[name] === undefined ? fallback : String(env[name]);
    config[key] = parser(name)(raw);
  }
  if (config.shutdownDelayMs >= config.shutdownTimeoutMs) {
    throw new ConfigError('SHUTDOWN_DELAY_MS', String(config.shutdownDelayMs),
      `less than SHUTDOWN_TIMEOUT_MS (${config.shutdownTimeoutMs})`);
  }
  return Object.freeze(config);
}

module.exports = { loadConfig, ConfigError, SCHEMA };
