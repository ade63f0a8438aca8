// Lint rules: typescript-eslint's recommended set, plus the project's boundaries (DESIGN.md):
// the proxy never imports the controller, CLI or platform; src/lib imports nothing of ours.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const boundary = (patterns, message) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group: [group], message })) }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'native/build/**', 'test-results/**', 'bench/results/**', 'src/api/gen/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['src/proxy/**/*.ts'],
    rules: boundary(['**/controller/**', '**/cli/**', '**/platform/**'], 'The proxy talks to the control plane only through proto/.'),
  },
  {
    files: ['src/controller/**/*.ts'],
    rules: boundary(['**/proxy/**', '**/cli/**'], 'The controller never imports the proxy or the CLI.'),
  },
  {
    files: ['src/lib/**/*.ts'],
    rules: boundary(['**/proxy/**', '**/controller/**', '**/cli/**', '**/platform/**', '**/api/**'], 'src/lib imports nothing of ours.'),
  },
  {
    files: ['web/**/*.ts', 'web/**/*.tsx'],
    rules: boundary(['**/proxy/**', '**/cli/**', '**/platform/**', 'node:*'], 'The dashboard runs in a browser: it reads the APIs\' types and pure modules only.'),
  },
  {
    files: ['**/*.js', '**/*.mjs', 'bin/*'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
  },
);
