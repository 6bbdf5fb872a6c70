'use strict';
// Prometheus metrics, on a registry of their own (no global state: tests build many apps).
const client = require('prom-client');

function createMetrics({ version }) {
  const registry = new client.Registry();
  // Process CPU, resident memory, heap, event-loop lag, open file descriptors, GC.
  client.collectDefaultMetrics({ register: registry });

  const labelNames = ['method', 'route', 'status_code'];
  const requests = new client.Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route and status code.',
    labelNames,
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from request received to response finished, by method, route and status code.',
    labelNames,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const errors = new client.Counter({
    name: 'http_request_errors_total',
    help: 'Requests that ended in an unhandled error (answered 5xx by the error handler), by method and route.',
    labelNames: ['method', 'route'],
    registers: [registry],
  });
  const info = new client.Gauge({
    name: 'app_info',
    help: 'Always 1; labels carry the app and Node.js versions.',
    labelNames: ['version', 'node_version'],
    registers: [registry],
  });
  info.set({ version, node_version: process.versions.node }, 1);

  return { registry, requests, duration, errors, contentType: registry.contentType };
}

module.exports = { createMetrics };
