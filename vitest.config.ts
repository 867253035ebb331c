import { defineConfig } from 'vitest/config';

// Two projects: `unit` is pure and fast; `integration` talks to the real Temporal dev
// server, Kafka broker and embedded ClickHouse that test/global-setup.ts starts once.
export default defineConfig({
  test: {
    // Temporal's worker (neon + wasm) misbehaves in worker threads: use forked processes.
    pool: 'forks',
    // Tests that load onnxruntime-node themselves get its telemetry opt-out too (platform/onnx/telemetry-off.mjs).
    env: { ORT_DISABLE_TELEMETRY: '1' },
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Services are shared and time-skipping is global: run integration files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});
