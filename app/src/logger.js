'use strict';
// One JSON object per line on stdout (errors included: the platform collects stdout), written
// by pino. The lines keep the fields the platform reads: `time` (ISO 8601, UTC), `level` (its
// name: debug, info, warn, error), `msg`, then the fields of the call; no pid or hostname (the
// log collector adds the pod's own labels).
//
// Lines are written in batches: pino's destination (sonic-boom) keeps them until 4 KB are
// waiting, or for at most 100 ms when traffic is light, then writes them with one write(2), on
// this thread (under the bench's load: one write per 16 requests instead of one per request,
// and no hand-off to libuv's thread pool, which cost about three times as much CPU per line
// here as the write itself). Lines still waiting are written when the process exits
// (process.exit included); only a SIGKILL or a crash of the runtime itself can lose them.
const pino = require('pino');

// pino's isoTime formats a new Date on every line; under load many lines share a millisecond,
// so the formatted string is kept until the clock moves on (the same text, made less often).
function isoTimeCached() {
  let last = 0;
  let text = '';
  return () => {
    const now = Date.now();
    if (now !== last) {
      last = now;
      text = `,"time":"${new Date(now).toISOString()}"`;
    }
    return text;
  };
}

// `level` is one of config.js's LOG_LEVEL choices; `stream` (tests) replaces stdout.
function createLogger({ level = 'info', stream } = {}) {
  let destination = stream;
  if (!destination) {
    destination = pino.destination({ dest: 1, sync: true, minLength: 4096, periodicFlush: 100 });
    // pino flushes its asynchronous destinations at exit; this one is synchronous, so do it here.
    process.on('exit', () => destination.flushSync());
  }
  return pino({
    level,
    base: undefined,
    messageKey: 'msg',
    timestamp: isoTimeCached(),
    formatters: { level: (label) => ({ level: label }) },
  }, destination);
}

module.exports = { createLogger };
