// Launcher of the ORIGINAL bitcore-wallet-service 2.5.1 for the benchmark.
//   OBWS_DIR=<node_modules/bitcore-wallet-service> node server.js config.json
// Same as its bws.js (no cluster, no https) but with the config from the file:
// in-process lock (no lockOpts.lockerServer), in-process message broker (no
// messageBrokerServer), rate limiter off (ignoreRateLimiter), logs off.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

const dir = process.env.OBWS_DIR;
const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const log = require(require.resolve('npmlog', { paths: [dir] }));
log.level = 'warn';
const ExpressApp = require(path.join(dir, 'lib', 'expressapp'));

const app = new ExpressApp();
const server = http.Server(app.app);
server.on('connection', (socket) => socket.setTimeout(300 * 1000));
app.start(config, (err) => {
  if (err) {
    console.error('could not start the original BWS:', err);
    process.exit(1);
  }
  server.listen(config.port, '127.0.0.1', () => console.log('original bws listening on ' + config.port));
});
