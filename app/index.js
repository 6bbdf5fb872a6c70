'use strict';
// Entry point: validate the configuration, listen, and shut down gracefully on signals.
const { loadConfig, ConfigError } = require('./src/config');
const { start } = require('./src/server');

let config;
try {
  config = loadConfig(process.env);
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`${err.message}\n`);
  process.exit(2);
}

const service = start(config);

service.listening.catch((err) => {
  service.log.error({ error: err.message, port: config.port, host: config.host }, 'cannot listen');
  process.exit(1);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    service.shutdown(signal).then((code) => process.exit(code));
  });
}

process.on('uncaughtException', (err) => {
  service.log.error({ error: err.message, stack: err.stack }, 'uncaught exception');
  process.exit(1);
});
