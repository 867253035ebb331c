/** One-observation-at-a-time change detectors with JSON-serializable state. */
export { Adwin, ADWIN_DEFAULTS } from './adwin.ts';
export type { AdwinOptions, AdwinRow, AdwinState, AdwinUpdate, SerializedAdwin } from './adwin.ts';
export { PageHinkley, PAGE_HINKLEY_DEFAULTS } from './page-hinkley.ts';
export type {
  PageHinkleyMode,
  PageHinkleyOptions,
  PageHinkleyState,
  PageHinkleyUpdate,
  SerializedPageHinkley,
} from './page-hinkley.ts';
export { Cusum, CUSUM_DEFAULTS, CUSUM_DEFAULT_H } from './cusum.ts';
export type { CusumOptions, CusumState, CusumUpdate, SerializedCusum } from './cusum.ts';
export { cusumThresholdForArl, siegmundOneSidedArl, siegmundTwoSidedArl } from './cusum-calibration.ts';
export type { SequentialDetector, SequentialUpdate, SerializedDetector } from './types.ts';
export { restoreDetector } from './restore.ts';
export type { AnySequentialDetector, SerializedSequentialDetector } from './restore.ts';
