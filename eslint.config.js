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
    // Each workspace package (the kernel's, every plugin's) is used by others only through its
    // name and exports map. Test files of the plugins still share test/support until they move to
    // the kernel's test kit, so they are not held to it yet.
    files: ['libs/**/*.ts', 'plugins/**/*.ts', 'examples/**/*.ts'],
    ignores: ['**/*.spec.ts', '**/*.fixtures.ts'],
    plugins: { pipeline: { rules: { 'package-boundaries': packageBoundaries } } },
    rules: { 'pipeline/package-boundaries': 'error' },
  },
);
