// Integration tests talk to real Kafka, PostgreSQL and Redis; they run one file at a time.
module.exports = {
  ...require('./jest.shared'),
  displayName: 'integration',
  testMatch: ['<rootDir>/{apps,libs,tools}/**/*.integration-spec.ts'],
  testTimeout: 120000,
  maxWorkers: 1,
};
