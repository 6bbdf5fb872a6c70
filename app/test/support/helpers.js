'use strict';
// Shared by the tests: run the real entry point (node index.js) in a child process and
// read its JSON log lines; plain HTTP helpers that open a fresh connection per request.
const { spawn } = require('node:child_process');
const http = require('node:http');
const path = require('node:path');
const { once } = require('node:events');

const ENTRY = path.join(__dirname, '..', '..', 'index.js');

function spawnApp(env = {}) {
  const child = spawn(process.execPath, [ENTRY], {
    env: { PATH: process.env.PATH, HOST: '127.0.0.1', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  let stderr = '';
  let buffer = '';
  const waiters = [];
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = JSON.parse(buffer.slice(0, nl));
      buffer = buffer.slice(nl + 1);
      lines.push(line);
      for (const w of waiters.slice()) {
        if (w.match(line)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    }
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));

  // Resolves with the first log line (past or future) for which match() is true.
  function waitForLog(match, timeoutMs = 10_000) {
    const seen = lines.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line in ${timeoutMs}ms; stderr: ${stderr}`)), timeoutMs);
      waiters.push({ match, resolve: (l) => { clearTimeout(timer); resolve(l); } });
    });
  }

  return {
    child,
    lines,
    exited,
    waitForLog,
    get stderr() { return stderr; },
    port: () => waitForLog((l) => l.msg === 'listening').then((l) => l.port),
  };
}

// One request on a new connection (no agent, no pooling); resolves {status, headers, body}.
function get(port, urlPath, { agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
  });
}

module.exports = { spawnApp, get, ENTRY };
