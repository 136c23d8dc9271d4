// ESLint (flat config): typescript-eslint's type-aware rules, for the defects the compiler lets through
// (a promise nobody awaits, `any` leaking into typed code, a condition that is always true, a switch that
// forgets a case). Formatting is Prettier's job (`prettier --check`), so no stylistic rules here.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    // .gen/ and modules/karpenter/generated/: generated (npm run generate, npm run generate:crds); contracts/ and provider-schemas/: copied
    // verbatim from upstream; the rest are build output.
    ignores: ['.gen/**', 'modules/karpenter/generated/**', 'contracts/**', 'provider-schemas/**', 'dist/**', 'cdktf.out/**', 'coverage/**', 'bench-out/**'],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      // Each file is type-checked with the tsconfig.json that includes it (main, stacks, modules, cli,
      // scripts, __tests__), so tests and scripts get the same rules as modules.
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Defects the issue names (recommendedTypeChecked already has the first three at "error").
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unnecessary-condition': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // tsc already enforces this (noUnusedLocals, noUnusedParameters, `_` prefix allowed); one source of truth.
      '@typescript-eslint/no-unused-vars': 'off',
    },
  },
  {
    // Tests read synthesized Terraform JSON, CRDs and fake API payloads: `any` there is the honest type and a
    // wrong path fails the assertion. The promise, condition and switch rules still apply to tests.
    files: ['__tests__/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Fakes implement async interfaces (sleep, AWS calls) synchronously; async keeps throw-as-rejection.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The few JavaScript files (jest config, sequencer, npm test runner, these configs) are outside
    // tsconfig.json: plain JavaScript rules, Node globals.
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
