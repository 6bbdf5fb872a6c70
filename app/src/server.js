'use strict';
// Listening and graceful shutdown.
//
// On SIGTERM or SIGINT:
//   1. readiness fails at once (/readyz answers 503), responses carry `Connection: close`;
//   2. after SHUTDOWN_DELAY_MS (time for load balancers and Kubernetes endpoints to notice),
//      the listener closes: new connections are refused; idle keep-alive sockets are closed;
//   3. in-flight requests finish, then the process exits 0;
//   4. if that has not happened SHUTDOWN_TIMEOUT_MS after the signal, the remaining
//      connections are destroyed and the process exits 1.
const http = require('node:http');
const { createApp } = require('./app');
const { createMetrics } = require('./metrics');
const { createLogger } = require('./logger');
const pkg = require('../package.json');

// `stream`: where the log lines go (tests pass their own); stdout by default.
function start(config, { stream } = {}) {
  const log = createLogger({ level: config.logLevel, stream });
  const metrics = createMetrics({ version: pkg.version });
  const state = { shuttingDown: false };
  const app = createApp({ config, log, metrics, state });

  const server = http.createServer(app);
  server.keepAliveTimeout = config.keepAliveTimeoutMs;
  // Must exceed the keep-alive timeout, or a request arriving on a reused connection just
  // before it times out can be cut off.
  server.headersTimeout = config.keepAliveTimeoutMs + 1000;

  const listening = new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      const { address, port } = server.address();
      log.info({ address, port, node_version: process.versions.node, version: pkg.version }, 'listening');
      resolve(port);
    });
  });

  let closed;
  function shutdown(reason) {
    if (closed) return closed;
    state.shuttingDown = true;
    log.info({ reason, delay_ms: config.shutdownDelayMs }, 'shutdown begun: readiness now fails');
    closed = new Promise((resolve) => {
      const deadline = setTimeout(() => {
        log.error({ timeout_ms: config.shutdownTimeoutMs },
          'shutdown deadline reached: destroying remaining connections');
        server.closeAllConnections();
        resolve(1);
      }, config.shutdownTimeoutMs);
      setTimeout(() => {
        log.info('listener closing: new connections refused, waiting for in-flight requests');
        server.close(() => {
          clearTimeout(deadline);
          log.info('shutdown complete');
          resolve(0);
        });
        server.closeIdleConnections();
      }, config.shutdownDelayMs);
    });
    return closed;
  }

  return { server, app, state, log, listening, shutdown };
}

module.exports = { start };
