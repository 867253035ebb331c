/**
 * Retrain policies as the tests build them: a plain cost-aware policy (model `m`, retrain 150, no
 * deployment risk, observed traffic, guards that stay out of the way), over which each test sets
 * only what it is about. Key order is the policy file's, so a built policy reads like a written one.
 */
import type { CostAwareTrigger, PolicyGuards, PolicyTrigger, RetrainPolicy } from '../../detectors/policy/index.ts';

/** A cost-aware trigger: value 1 per quality unit, observed traffic, 7-day horizon, retrain 150, no risk, the median. */
export function costAwareTrigger(over: Partial<Omit<CostAwareTrigger, 'kind'>> = {}): CostAwareTrigger {
  return {
    kind: 'cost-aware',
    valuePerQualityUnit: 1,
    traffic: { kind: 'observed', fallbackPerHour: 0 },
    horizon: '7d',
    retrainCost: 150,
    deploymentRisk: { probability: 0, cost: 0 },
    quantile: 0.5,
    rule: 'forecast-then-cumulative',
    ...over,
  };
}

/** Guards that never block: 1-hour cooldown, 100 retrains a week, no approval, no data-quality guard. */
export function permissiveGuards(over: Partial<PolicyGuards> = {}): PolicyGuards {
  return {
    cooldown: '1h',
    budget: { maxRetrains: 100, per: '7d' },
    oneAtATime: true,
    blackout: [],
    approval: { required: false, timeout: '1h' },
    requireDataQuality: false,
    ...over,
  };
}

/** What a policy sets besides its trigger; guards are merged over {@link permissiveGuards}. */
export type PolicyOverrides = Partial<Omit<RetrainPolicy, 'trigger' | 'guards'>> & { guards?: Partial<PolicyGuards> };

/** Policy `p` v1 for model `m` with `trigger`, permissive guards and a fixed 4-hour training window. */
export function policyWith(trigger: PolicyTrigger, over: PolicyOverrides = {}): RetrainPolicy {
  const { guards, ...rest } = over;
  return {
    name: 'p',
    version: '1',
    model: 'm',
    description: '',
    trigger,
    guards: permissiveGuards(guards),
    trainingWindow: { kind: 'fixed', duration: '4h' },
    ...rest,
  };
}

/** {@link policyWith} a {@link costAwareTrigger} with `trigger`'s settings. */
export function costAwarePolicy(
  over: PolicyOverrides & { trigger?: Partial<Omit<CostAwareTrigger, 'kind'>> } = {},
): RetrainPolicy {
  const { trigger, ...rest } = over;
  return policyWith(costAwareTrigger(trigger), rest);
}

/** Guards of a team that reviews its retrains: a 6-hour cooldown, 4 retrains a week, the data-quality guard. */
export const REVIEWED_GUARDS: Partial<PolicyGuards> = {
  cooldown: '6h',
  budget: { maxRetrains: 4, per: '7d' },
  approval: { required: false, timeout: '24h' },
  requireDataQuality: true,
};

/**
 * The demo's cost-aware policy (`npm start`): 0.05 per quality unit, a 1-day horizon, retrain 60
 * + risk 10 (10% × 100), a 2-minute cooldown, 20 retrains a day, the data-quality guard, and a
 * 5-minute training window; `over` as for {@link costAwarePolicy}.
 */
export function demoPolicy(
  over: PolicyOverrides & { trigger?: Partial<Omit<CostAwareTrigger, 'kind'>> } = {},
): RetrainPolicy {
  return costAwarePolicy({
    trainingWindow: { kind: 'fixed', duration: '5m' },
    ...over,
    trigger: {
      valuePerQualityUnit: 0.05,
      horizon: '1d',
      retrainCost: 60,
      deploymentRisk: { probability: 0.1, cost: 100 },
      ...over.trigger,
    },
    guards: { cooldown: '2m', budget: { maxRetrains: 20, per: '1d' }, requireDataQuality: true, ...over.guards },
  });
}
