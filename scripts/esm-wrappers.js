'use strict';
// Writes dist/esm/*.mjs: ES module faces of the CommonJS build, so that
// `import` and `require` share one copy of greenloop's state (one root greenlet
// per thread) instead of loading the implementation twice.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
const entries = ['index', 'greenlet'];
const esmDir = path.join(root, 'dist', 'esm');
fs.mkdirSync(esmDir, { recursive: true });

for (const name of entries) {
  const cjsPath = path.join(root, 'dist', 'cjs', `${name}.js`);
  const names = Object.keys(require(cjsPath)).filter((key) => key !== 'default' && key !== '__esModule');
  const lines = [
    `import cjs from '../cjs/${name}.js';`,
    `export const { ${names.join(', ')} } = cjs;`,
    'export default cjs;',
    '',
  ];
  fs.writeFileSync(path.join(esmDir, `${name}.mjs`), lines.join('\n'));
  fs.writeFileSync(path.join(esmDir, `${name}.d.mts`), `export * from '../cjs/${name}.js';\n`);
}
