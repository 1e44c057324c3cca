// Is this Node one the workshop runs on? Plain CommonJS with nothing newer
// than Node 14 can parse, so that on an old Node the answer is one line that
// says what to install, not a syntax error or silence. npm start, npm run
// step, check, doctor and npm test run this first.
'use strict';
var fs = require('fs');
var path = require('path');

/** [major, minor, patch] of "v20.18.0" or "20.18.0". */
function parse(version) {
  var m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(String(version).trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

function compare(a, b) {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Whether a version meets a range of "^x.y.z" and ">=x.y.z" parts joined by "||", as engines says. */
function satisfies(version, range) {
  var have = parse(version);
  if (!have) return false;
  return range.split('||').some(function (part) {
    var m = /^\s*(\^|>=)\s*(\d+\.\d+\.\d+)\s*$/.exec(part);
    if (!m) return false;
    var need = parse(m[2]);
    if (compare(have, need) < 0) return false;
    return m[1] === '>=' || have[0] === need[0];
  });
}

/** The engines range from package.json. */
function engines(root) {
  return JSON.parse(
    fs.readFileSync(path.join(root || path.join(__dirname, '..'), 'package.json'), 'utf8'),
  ).engines.node;
}

/** One line: which Node is needed and how to get it. */
function advice(version, range) {
  var wanted = range.split('||').map(function (part) {
    var m = /^\s*(\^|>=)\s*(\d+)\.(\d+)\.\d+\s*$/.exec(part);
    if (!m) return part.trim();
    return m[1] === '^'
      ? m[2] + '.' + m[3] + ' or a later ' + m[2] + '.x'
      : m[2] + '.' + m[3] + ' or newer';
  });
  return (
    'Node ' +
    version +
    ' cannot run this workshop: it needs Node ' +
    wanted.join(', or ') +
    '. Install Node 24 LTS: nvm install 24 (nvm-windows: nvm install 24, then nvm use 24), fnm install 24, or the installer from https://nodejs.org; then npm install again.'
  );
}

module.exports = { satisfies: satisfies, engines: engines, advice: advice };

if (require.main === module) {
  var range = engines();
  if (!satisfies(process.version, range)) {
    console.error(advice(process.version, range));
    process.exit(1);
  }
}
