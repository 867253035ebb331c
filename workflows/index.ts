// Every workflow the halflife worker runs. Deterministic code only (see ARCHITECTURE.md).
export { ModelMonitor } from './model-monitor.ts';
export { Retrain } from './retrain.ts';
