'use strict';
// One JSON object per line on stdout (errors included: the platform collects stdout).

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

function createLogger({ level = 'info', stream = process.stdout, base = {} } = {}) {
  const threshold = LEVELS[level];
  const write = (lvl) => (msg, fields = {}) => {
    if (LEVELS[lvl] < threshold) return;
    stream.write(`${JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...base, ...fields })}\n`);
  };
  return { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') };
}

module.exports = { createLogger };
