'use strict';
// The Express application: routes, request logging and metrics. No listening here
// (see server.js), so tests can build as many apps as they like.
const { randomUUID } = require('node:crypto');
const { performance } = require('node:perf_hooks');
const express = require('express');

const PROBES = new Set(['/healthz', '/readyz', '/metrics']);
const MAX_SLOW_MS = 60_000;

function createApp({ config, log, metrics, state }) {
  const app = express();
  app.disable('x-powered-by');
  // No ETag: Express would hash every response body (sha1) for conditional requests that none
  // of this app's clients make (probes, Prometheus, callers of a 10-byte greeting), a few
  // percent of the CPU of each request.
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);

  // Request id, metrics and one log line per request, written when the response is done.
  // On every request's path: read and set headers with Node's own calls (Express's req.get and
  // res.set add work this needs none of), and build the log fields only when the level is on.
  app.use((req, res, next) => {
    const started = performance.now();
    const id = req.headers['x-request-id'] || randomUUID();
    res.setHeader('x-request-id', id);
    // Once shutdown has begun, ask keep-alive clients to reconnect (to another replica).
    if (state.shuttingDown) res.setHeader('connection', 'close');
    res.on('finish', () => {
      const seconds = (performance.now() - started) / 1000;
      const route = req.route ? req.baseUrl + req.route.path : 'unmatched';
      const labels = { method: req.method, route, status_code: String(res.statusCode) };
      metrics.requests.inc(labels);
      metrics.duration.observe(labels, seconds);
      const level = PROBES.has(req.path) && !config.logProbes ? 'debug' : 'info';
      if (!log.isLevelEnabled(level)) return;
      log[level]({
        request_id: id,
        method: req.method,
        path: req.path,
        route,
        status: res.statusCode,
        duration_ms: Math.round(seconds * 1e6) / 1e3,
        bytes: Number(res.getHeader('content-length')) || 0,
        remote_addr: req.ip,
        user_agent: req.headers['user-agent'] || '',
      }, 'request');
    });
    next();
  });

  // The original contract: same paths, status codes and bodies.
  app.get('/', (req, res) => res.send('Hello OUI!'));
  app.get('/healthz', (req, res) => res.send('OK'));

  app.get('/readyz', (req, res) => {
    if (state.shuttingDown) return res.status(503).send('shutting down');
    return res.send('OK');
  });

  app.get('/metrics', async (req, res) => {
    res.set('content-type', metrics.contentType);
    res.send(await metrics.registry.metrics());
  });

  if (config.debugRoutes) {
    // Test-only (DEBUG_ROUTES=true): a request that takes `ms` milliseconds, to observe
    // graceful shutdown with a request in flight, and one that fails, to observe errors.
    app.get('/debug/slow', async (req, res) => {
      const ms = Math.min(Number.parseInt(req.query.ms, 10) || 1000, MAX_SLOW_MS);
      await new Promise((resolve) => setTimeout(resolve, ms));
      res.send(`slept ${ms}ms`);
    });
    app.get('/debug/error', () => {
      throw new Error('deliberate error from /debug/error');
    });
  }

  app.use((req, res) => res.status(404).send('Not Found'));

  // eslint-disable-next-line no-unused-vars -- Express finds error handlers by their arity
  app.use((err, req, res, next) => {
    const status = err.status || err.statusCode || 500;
    if (status >= 500) {
      const route = req.route ? req.baseUrl + req.route.path : 'unmatched';
      metrics.errors.inc({ method: req.method, route });
      log.error({ path: req.path, error: err.message, stack: err.stack }, 'unhandled error');
    }
    res.status(status).send(status >= 500 ? 'Internal Server Error' : err.message);
  });

  return app;
}

module.exports = { createApp };
