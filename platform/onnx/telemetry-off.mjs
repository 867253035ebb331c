// onnxruntime-node 1.30's native library carries telemetry on Linux and macOS (1DS, on by default):
// every process that loads it writes /tmp/mat-debug-<pid>.log, keeps a device id and an offline event
// store under ~/.cache/Microsoft/DeveloperTools/.onnxruntime, and tries to upload events to
// Microsoft. A daemon that scores production data sends nothing anywhere it was not told to, so the
// library's own opt-out is set before it loads: it is read once, when the library initialises, and
// holds for the process. Imported first by session.mjs, the one module that loads onnxruntime-node;
// setting it on the main thread also reaches the runner threads and child processes started after.
// An ORT_DISABLE_TELEMETRY already in the environment is left as it is.
if (process.env.ORT_DISABLE_TELEMETRY === undefined) process.env.ORT_DISABLE_TELEMETRY = '1';
