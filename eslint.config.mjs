import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

export default [
  { ignores: ['**/dist/**', '**/node_modules/**', '**/*.js', '**/*.mjs', '**/*.cjs', '.nx/**'] },
  ...nx.configs['flat/base'],
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      // Dependencies point one way: syscall -> stores -> runtime -> supervisor -> cli/bench.
      '@nx/enforce-module-boundaries': [
        'error',
        {
          enforceBuildableLibDependency: false,
          allow: [],
          depConstraints: [
            { sourceTag: 'scope:syscall', onlyDependOnLibsWithTags: [] },
            { sourceTag: 'scope:store', onlyDependOnLibsWithTags: ['scope:syscall'] },
            { sourceTag: 'scope:runtime', onlyDependOnLibsWithTags: ['scope:syscall', 'scope:store'] },
            { sourceTag: 'scope:supervisor', onlyDependOnLibsWithTags: ['scope:syscall', 'scope:store', 'scope:runtime'] },
            { sourceTag: 'scope:app', onlyDependOnLibsWithTags: ['scope:syscall', 'scope:store', 'scope:runtime', 'scope:supervisor'] },
            // Tests' shared helpers: nothing in another package's src may use them.
            { sourceTag: 'scope:testing', onlyDependOnLibsWithTags: ['scope:syscall', 'scope:store', 'scope:runtime'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/test/**/*.ts', 'tools/**/*.ts', 'packages/testing/src/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off', '@nx/enforce-module-boundaries': 'off' },
  },
];
