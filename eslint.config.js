import js from '@eslint/js'
import globals from 'globals'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'build/', 'coverage/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }]
    }
  },
  {
    // A switch over a union (an outcome, a kind, an action) must name every member: a new member is
    // then a lint error wherever it is not handled, not a silent fall-through.
    files: ['src/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/switch-exhaustiveness-check': [
        'error',
        { considerDefaultExhaustiveForUnions: false, requireDefaultForNonUnion: true }
      ]
    }
  },
  {
    // The dev tools and fixtures stand on their own: nothing of them lives in, or imports, the tests.
    files: ['scripts/**/*.ts', 'bench/**/*.ts', 'sandbox/**/*.ts', '__fixtures__/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/__tests__/**'],
              message: 'scripts/, bench/, sandbox/ and __fixtures__/ import nothing from __tests__/'
            }
          ]
        }
      ]
    }
  },
  {
    // The fake AWS must not reuse the code it checks (types are fine: they run nothing).
    files: ['sandbox/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/__tests__/**'], message: 'sandbox/ imports nothing from __tests__/.' },
            {
              group: ['**/src/**'],
              allowTypeImports: true,
              message: 'The sandbox imports no code from src/: it would check nothing'
            }
          ]
        }
      ]
    }
  }
)
