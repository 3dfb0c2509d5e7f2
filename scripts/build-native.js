'use strict';
// Builds the native core (binding.gyp) with node-gyp: `npm install` and
// `npm run build:native` run this.
//
// node-gyp downloads Node's headers unless told where they are. Distribution
// packages and the official tarballs ship them beside the binary
// (<prefix>/bin/node, <prefix>/include/node), so when the running Node has
// them, and the user has not named a nodedir (npm_config_nodedir), they are
// used and the build needs no network. Otherwise node-gyp does its default.
const { spawnSync } = require('node:child_process');
const { existsSync, readFileSync } = require('node:fs');
const { dirname, join } = require('node:path');

/** The running Node's install prefix if its headers are there and are its own version. */
function ownHeaders() {
  const prefix = dirname(dirname(process.execPath));
  const include = join(prefix, 'include', 'node');
  // node-gyp needs common.gypi beside the headers as well.
  if (!existsSync(join(include, 'node.h')) || !existsSync(join(include, 'common.gypi'))) return null;
  try {
    const header = readFileSync(join(include, 'node_version.h'), 'utf8');
    const part = (name) => (new RegExp(`#define NODE_${name}_VERSION (\\d+)`).exec(header) || [])[1];
    const version = `${part('MAJOR')}.${part('MINOR')}.${part('PATCH')}`;
    if (version !== process.versions.node) return null;
  } catch {
    return null;
  }
  return prefix;
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
if (!process.env.npm_config_nodedir) {
  const prefix = ownHeaders();
  if (prefix !== null) {
    args.push(`--nodedir=${prefix}`);
    // node-gyp lets npm_config_* variables override its arguments, and npm
    // passes an empty one for an unset nodedir.
    env.npm_config_nodedir = prefix;
  }
}
const [command, ...first] = nodeGyp();
console.log(`greenloop: node-gyp ${args.join(' ')}`);
const result = spawnSync(command, [...first, ...args], { stdio: 'inherit', cwd: join(__dirname, '..'), env });
if (result.error) {
  console.error(`greenloop: could not run node-gyp: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
