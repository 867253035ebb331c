export function runDelayNs(schedstat: string): number;
export function runTimeMs(wallMs: number, delayBeforeNs: number, delayAfterNs: number): number;
export function timedRun<T>(start: () => Promise<T>): Promise<{ value: T; runMs: number }>;
export function timedSyncRun<T>(run: () => T): { value: T; runMs: number };
