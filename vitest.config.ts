import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Integration suites start real servers (Kafka, Prometheus); run files one at a time
    // on these 2-core machines so timings stay meaningful.
    fileParallelism: false,
  },
});
