'use strict';
// Builds the native core (binding.gyp) with node-gyp: `npm install` and
// `npm run build:native` run this.
//
// node-gyp downloads Node's headers unless told where they are. Distribution
// packages and the official tarballs ship them beside the binary
// (<prefix>/bin/node, <prefix>/include/node), so when the running Node has
// them they are used and the build needs no network, unless a nodedir was
// configured (npm_config_nodedir) whose headers are this Node's version (a
// nodedir of another version would build an addon this Node cannot load).
// Otherwise node-gyp does its default.
const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

/** The Node version whose headers `dir` (an install prefix or a source tree) holds, or null. */
function headersVersion(dir) {
  for (const file of [join(dir, 'include', 'node', 'node_version.h'), join(dir, 'src', 'node_version.h')]) {
    try {
      const header = readFileSync(file, 'utf8');
      const part = (name) => (new RegExp(`#define NODE_${name}_VERSION (\\d+)`).exec(header) || [])[1];
      return `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
    } catch {
      // not this layout
    }
  }
  return null;
}

/** The running Node's install prefix if its headers are there and are its own version. */
function ownHeaders() {
  const prefix = dirname(dirname(process.execPath));
  const include = join(prefix, 'include', 'node');
  // node-gyp needs common.gypi beside the headers as well.
  if (!existsSync(join(include, 'node.h')) || !existsSync(join(include, 'common.gypi'))) return null;
  return headersVersion(prefix) === process.versions.node ? prefix : null;
}

/** npm's own node-gyp (what install scripts get), else this package's, else the one on PATH. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp && existsSync(process.env.npm_config_node_gyp)) {
    return [process.execPath, process.env.npm_config_node_gyp];
  }
  try {
    return [process.execPath, require.resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    return ['node-gyp'];
  }
}

const args = ['rebuild'];
const env = { ...process.env };
const configured = process.env.npm_config_nodedir;
const configuredVersion = configured ? headersVersion(configured) : null;
if (!configured || (configuredVersion !== null && configuredVersion !== process.versions.node)) {
  const prefix = ownHeaders();
  if (prefix !== null && configured) {
    console.log(
      `greenloop: nodedir ${configured} has Node ${configuredVersion}'s headers; using this Node's own (${process.versions.node})`,
    );
  }
  if (prefix !== null) {
    args.push(`--nodedir=${prefix}`);
    // node-gyp lets npm_config_* variables override its arguments, and npm
    // passes an empty one for an unset nodedir.
    env.npm_config_nodedir = prefix;
  }
}
const [command, ...first] = nodeGyp();
const source =
  env.npm_config_nodedir && !args.some((a) => a.startsWith('--nodedir'))
    ? ` (nodedir ${env.npm_config_nodedir}, from the npm config)`
    : '';
console.log(`greenloop: node-gyp ${args.join(' ')}${source}`);
const result = spawnSync(command, [...first, ...args], { stdio: 'inherit', cwd: join(__dirname, '..'), env });
if (result.error) {
  console.error(`greenloop: could not run node-gyp: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
