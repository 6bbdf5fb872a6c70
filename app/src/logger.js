'use strict';
// One JSON object per line on stdout (errors included: the platform collects stdout), written
// by pino. The lines keep the fields the platform reads: `time` (ISO 8601, UTC), `level` (its
// name: debug, info, warn, error), `msg`, then the fields of the call; no pid or hostname (the
// log collector adds the pod's own labels).
//
// On stdout the destination is pino's asynchronous one (sonic-boom, `sync: false`): a log call
// appends to a buffer and returns; the buffer goes out in one write(2) per turn of the event
// loop, off the request's path, instead of one blocking write per line. Lines still buffered
// are written synchronously when the process exits (process.exit included); only a SIGKILL or
// a crash of the runtime itself can lose them.
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
  const destination = stream ?? pino.destination({ dest: 1, sync: false });
  return pino({
    level,
    base: undefined,
    messageKey: 'msg',
    timestamp: isoTimeCached(),
    formatters: { level: (label) => ({ level: label }) },
  }, destination);
}

module.exports = { createLogger };
