import type { temporal } from '@temporalio/proto';

/**
 * The `patched` ids a workflow history recorded, in order. The SDK records each as a `core_patch`
 * marker whose `patch-data` payload is JSON naming the patch; '?' for one without it.
 */
export function patchMarkersOf(history: temporal.api.history.v1.IHistory): string[] {
  return (history.events ?? [])
    .filter((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch')
    .map((e) => {
      const data = e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data;
      return data ? (JSON.parse(Buffer.from(data).toString('utf8')) as { id: string }).id : '?';
    });
}
