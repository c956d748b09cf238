import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import packageBoundaries from './scripts/eslint-package-boundaries.js';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'data/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
    },
  },
  {
    // The kernel knows nothing about the stages; plugins meet only through the kernel's contract.
    files: ['libs/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['**/plugins/**'] }] },
  },
  {
    // Each workspace package (the kernel's, its schema's, every plugin's) is used by others only
    // through its name and exports map. A plugin's tests too: they reach the kernel through its
    // test kit. The kernel's own specs still start daemons and databases with test/support.
    files: ['libs/**/*.ts', 'migrations/**/*.ts', 'plugins/**/*.ts', 'examples/**/*.ts'],
    ignores: ['libs/**/*.spec.ts'],
    plugins: { pipeline: { rules: { 'package-boundaries': packageBoundaries } } },
    rules: { 'pipeline/package-boundaries': 'error' },
  },
);
