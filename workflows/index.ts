// Every workflow the halflife worker runs. Deterministic code only (see ARCHITECTURE.md).
export { ModelMonitor } from './monitor/model-monitor.ts';
export { Retrain } from './retrain.ts';
export { TaintedWithdrawal } from './tainted-withdrawal.ts';
export { AlertEpisode } from './alerts/alert-episode.ts';
