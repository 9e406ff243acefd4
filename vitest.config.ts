import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 180_000,
    // Integration suites start real servers (Kafka, Prometheus, Chromium); run files one at
    // a time on these 2-core machines so they do not starve each other.
    fileParallelism: false,
  },
});
