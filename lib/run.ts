/**
 * The preload `node -r greenloop/run script.js` (also `NODE_OPTIONS="-r greenloop/run"`):
 * patches Node's blocking APIs with {@link patchAll}, then runs the script's
 * top level in the main greenlet, as the `greenloop` CLI does. See docs/cli.md.
 *
 * Preloaded into a process that runs no script (`node -e`, `node -p`, the
 * REPL), it only patches.
 * @module
 */
import { patchAll } from './monkey/index.js';
import { installRunMain } from './run/main.js';

patchAll();
installRunMain();
