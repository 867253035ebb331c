import { describe, expect, it } from 'vitest';
import { monitorHealth, type HealthInputs } from '../../../detectors/monitor/health.ts';

const healthy: HealthInputs = {
  paused: false,
  evaluated: true,
  dataQualityOk: true,
  timeToBreachHours: 12,
  datasetDrift: false,
};

describe('monitorHealth', () => {
  it('is healthy when every signal is fine, and unknown before the first window', () => {
    expect(monitorHealth(healthy)).toBe('healthy');
    expect(monitorHealth({ ...healthy, evaluated: false })).toBe('unknown');
  });

  it('ranks paused over broken data over a breached SLO over drift', () => {
    const everything: HealthInputs = {
      paused: true,
      evaluated: true,
      dataQualityOk: false,
      timeToBreachHours: 0,
      datasetDrift: true,
    };
    expect(monitorHealth(everything)).toBe('paused');
    expect(monitorHealth({ ...everything, paused: false })).toBe('data-quality');
    expect(monitorHealth({ ...everything, paused: false, dataQualityOk: true })).toBe('degraded');
    expect(monitorHealth({ ...everything, paused: false, dataQualityOk: true, timeToBreachHours: 3 })).toBe('drifting');
  });

  it('treats signals that were not measured as no evidence of trouble', () => {
    expect(monitorHealth({ ...healthy, dataQualityOk: null, timeToBreachHours: null, datasetDrift: null })).toBe(
      'healthy',
    );
  });
});
