/** Revive any sequential detector from its JSON snapshot (e.g. after Temporal continue-as-new). */
import { Adwin } from './adwin.ts';
import type { SerializedAdwin } from './adwin.ts';
import { Cusum } from './cusum.ts';
import type { SerializedCusum } from './cusum.ts';
import { PageHinkley } from './page-hinkley.ts';
import type { SerializedPageHinkley } from './page-hinkley.ts';

export type SerializedSequentialDetector = SerializedAdwin | SerializedPageHinkley | SerializedCusum;
export type AnySequentialDetector = Adwin | PageHinkley | Cusum;

export function restoreDetector(snapshot: SerializedSequentialDetector): AnySequentialDetector {
  switch (snapshot.kind) {
    case 'adwin':
      return Adwin.restore(snapshot);
    case 'page-hinkley':
      return PageHinkley.restore(snapshot);
    case 'cusum':
      return Cusum.restore(snapshot);
    default:
      throw new TypeError(`unknown detector kind ${String((snapshot as { kind: unknown }).kind)}`);
  }
}
