// ESLint for lib/ and test/ (type-aware through tsconfig.test.json, which
// covers both trees) and for the plain JavaScript of bench/, scripts/ and
// examples/: rules that catch defects, not style (layout is left to Prettier
// and .editorconfig). Run with `npm run lint`.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const unusedVars = { args: 'after-used', argsIgnorePattern: '^_', caughtErrors: 'none', varsIgnorePattern: '^_' };

export default tseslint.config(
  { ignores: ['dist/', 'build/', 'docs/', 'node_modules/', '.ci/', 'test/fixtures/', 'test/types/'] },
  {
    files: ['lib/**/*.ts', 'test/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      parserOptions: { project: './tsconfig.test.json', tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // The native boundary and the monkey patches handle untyped values on purpose.
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-function-type': 'off',
      // `function () { ... arguments }` patches keep the patched function's arity and `this`.
      'prefer-rest-params': 'off',
      '@typescript-eslint/no-this-alias': 'off',
      // Lazy require() of optional Node modules; class/interface merging types EventEmitter events.
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/no-unsafe-declaration-merging': 'off',
      // A greenlet rethrows whatever was thrown into it, Error or not.
      '@typescript-eslint/only-throw-error': 'off',
      // Some suppressions hold under one of the two module settings only (CJS build, ESM type check).
      '@typescript-eslint/ban-ts-comment': ['error', { 'ts-ignore': 'allow-with-description' }],
      // `let self; super(() => self...); self = this` cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-unused-vars': ['error', unusedVars],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-fallthrough': 'error',
      'no-self-compare': 'error',
      'no-unused-private-class-members': 'error',
      'no-constant-binary-expression': 'error',
      // A promise nobody awaits or catches loses its error.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false },
      ],
    },
  },
  {
    // Benchmarks, build scripts and examples: CommonJS programs run by Node
    // as they are (the Python baselines beside them are not linted).
    files: ['bench/**/*.js', 'scripts/**/*.js', 'examples/**/*.js'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      'no-unused-vars': ['error', unusedVars],
      // `try { ... } catch {}` where a missing /proc file or a dead process is expected.
      'no-empty': ['error', { allowEmptyCatch: true }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
);
