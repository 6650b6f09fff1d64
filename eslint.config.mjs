import nx from '@nx/eslint-plugin';
import tseslint from 'typescript-eslint';

// Architecture rules: apps depend on libs, libs never on apps, one system's adapter never on
// another's, and domain code never on infrastructure. Test helpers may be used by every test.
const depConstraints = [
  { sourceTag: 'type:app', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:domain', 'type:infra', 'type:adapter', 'type:feature', 'type:service', 'type:testing'] },
  { sourceTag: 'type:service', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:domain', 'type:infra', 'type:adapter', 'type:feature', 'type:testing'] },
  { sourceTag: 'type:feature', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:domain', 'type:infra', 'type:testing'] },
  { sourceTag: 'type:adapter', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:domain', 'type:infra', 'type:testing'] },
  { sourceTag: 'type:infra', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:infra', 'type:testing'] },
  { sourceTag: 'type:domain', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:domain', 'type:testing'] },
  { sourceTag: 'type:contracts', onlyDependOnLibsWithTags: ['type:contracts'] },
  { sourceTag: 'type:util', onlyDependOnLibsWithTags: ['type:util'] },
  { sourceTag: 'type:e2e', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:domain', 'type:infra', 'type:adapter', 'type:feature', 'type:service', 'type:testing'] },
  { sourceTag: 'type:testing', onlyDependOnLibsWithTags: ['type:contracts', 'type:util', 'type:infra', 'type:domain', 'type:feature', 'type:adapter', 'type:testing'] },
  { sourceTag: 'system:shared', onlyDependOnLibsWithTags: ['system:shared'] },
  { sourceTag: 'system:all', onlyDependOnLibsWithTags: ['system:shared', 'system:postgres', 'system:hubspot', 'system:all'] },
  { sourceTag: 'system:postgres', onlyDependOnLibsWithTags: ['system:shared', 'system:postgres'] },
  { sourceTag: 'system:hubspot', onlyDependOnLibsWithTags: ['system:shared', 'system:hubspot'] },
];

export default [
  { ignores: ['**/node_modules', '**/dist', '.nx', '.tandem', 'jest.*.js', 'eslint.config.mjs'] },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    plugins: { '@nx': nx },
    rules: {
      '@nx/enforce-module-boundaries': [
        'error',
        { enforceBuildableLibDependency: false, allow: [], depConstraints, banTransitiveDependencies: false },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.integration-spec.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
];
