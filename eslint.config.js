// JS checks for the page, engine, tests and scripts (`npm run lint:js`, part of `npm test`).
import js from '@eslint/js';
import globals from 'globals';

export default [
  { ignores: ['web/pkg/**', 'dist/**', 'node_modules/**', 'target/**', 'tests/artifacts/**', '.cache/**', '.bench-venv/**'] },
  js.configs.recommended,
  {
    files: ['web/**/*.js', 'bench/web/**/*.js'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.browser, ...globals.worker } },
  },
  {
    files: ['scripts/**/*.mjs', 'tests/**/*.mjs', 'eslint.config.js', 'web/engine/node.mjs', 'web/engine/node-charts.mjs', 'web/engine/fetch-thread.mjs', 'web/bin/**/*.mjs'],
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: { ...globals.node } },
  },
  {
    // Playwright drivers: callbacks passed to page.evaluate() run in the page.
    files: ['tests/**/*.mjs', 'scripts/bench.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  { rules: { 'no-unused-vars': ['error', { argsIgnorePattern: '^_', caughtErrors: 'none' }] } },
];
