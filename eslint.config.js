// One linter for the whole tree. Layer boundaries (docs/architecture.md) are enforced here, not hoped for.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

const layers = {
  core: [],
  project: ['core'],
  sql: ['core'],
  quality: ['core', 'sql'],
  lake: ['core'],
  engine: ['core'],
  state: ['core'],
  ingest: ['core', 'lake'],
  lineage: ['core'],
  observe: ['core'],
  govern: ['core'],
  orchestrate: ['core', 'project', 'sql', 'quality', 'lake'],
  server: ['*'],
  cli: ['*'],
};
const all = Object.keys(layers);

const boundaryBlocks = Object.entries(layers)
  .filter(([, allowed]) => !allowed.includes('*'))
  .map(([layer, allowed]) => ({
    files: [`src/${layer}/**/*.ts`],
    ignores: [`src/${layer}/**/*.test.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: all
            .filter((other) => other !== layer && !allowed.includes(other))
            .map((other) => ({
              group: [
                `../${other}/*`,
                `../../${other}/*`,
                `../../../${other}/*`,
                `../${other}`,
                `../../${other}`,
              ],
              message: `The ${layer} layer may not import ${other} (see docs/architecture.md).`,
            })),
        },
      ],
    },
  }));

export default tseslint.config(
  {
    ignores: ['dist/**', 'node_modules/**', 'templates/**', 'test/fixtures/**', '.demo/**', 'bench/.out/**'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: false } },
    plugins: { 'import-x': importX },
    rules: {
      'import-x/no-cycle': ['error', { maxDepth: 10 }],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
    settings: { 'import-x/resolver': { typescript: true, node: true } },
  },
  { files: ['src/cli/**/*.ts', 'scripts/**', 'bench/**', 'test/**'], rules: { 'no-console': 'off' } },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { process: 'readonly', require: 'readonly', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...boundaryBlocks,
);
