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

/**
 * The activity type a local activity's marker names (the SDK's `core_local_activity` marker, its
 * `data` JSON); null for any other event, '?' for a marker without it.
 */
export function localActivityTypeOf(event: temporal.api.history.v1.IHistoryEvent): string | null {
  const marker = event.markerRecordedEventAttributes;
  if (marker?.markerName !== 'core_local_activity') return null;
  const data = marker.details?.data?.payloads?.[0]?.data;
  if (!data) return '?';
  const parsed = JSON.parse(Buffer.from(data).toString('utf8')) as { activity_type?: string; activityType?: string };
  return parsed.activity_type ?? parsed.activityType ?? '?';
}
