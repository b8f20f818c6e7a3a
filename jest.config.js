/** @type {import('jest').Config} */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  // NodeNext sources import './x.js'; jest resolves the .ts file behind it.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.check.json' }]
  },
  testMatch: ['**/__tests__/**/*.test.ts'],
  // Fixed fast-check seed for every property (FC_SEED overrides).
  setupFilesAfterEnv: ['<rootDir>/__tests__/setup/fast-check.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  collectCoverageFrom: ['src/**/*.ts', '!src/index.ts'],
  testTimeout: 60000
}
