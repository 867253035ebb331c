// The landing thread's entry (workers/ingest/landing-thread.ts starts it): ingest's TypeScript
// runs in it, so this plain-JavaScript entry registers tsx's ESM loader (a runtime dependency)
// in this thread before importing it — the thread starts without the parent's loader flags,
// whether the parent runs under tsx (`npm start`, benches) or vitest.
import { register } from 'tsx/esm/api';

register();
await import('./landing-thread-main.ts');
