import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'test/unit/**/*.test.ts'],
          globalSetup: ['test/support/policies-setup.ts'],
          testTimeout: 20_000,
        },
      },
      {
        // The benchmark harness, end to end (servers, OPA and all): its own project so unit runs stay unit.
        test: {
          name: 'bench',
          include: ['test/bench/**/*.test.ts'],
          globalSetup: ['test/support/policies-setup.ts'],
          testTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          // One real control plane per run, shared by every e2e file.
          globalSetup: ['test/support/policies-setup.ts', 'test/e2e/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 240_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
