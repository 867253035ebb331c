import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../platform/config.ts';
import { requestedAcknowledge } from '../../workers/ingest/http-acknowledge.ts';

describe('HTTP ingest acknowledgement: ?ack= and ingest.httpAcknowledge', () => {
  it("takes the request's ack when it is stored or logged, the setting otherwise", () => {
    expect(requestedAcknowledge({ ack: 'logged' }, 'stored')).toEqual({ ack: 'logged' });
    expect(requestedAcknowledge({ ack: 'stored' }, 'logged')).toEqual({ ack: 'stored' });
    expect(requestedAcknowledge({}, 'logged')).toEqual({ ack: 'logged' });
    expect(requestedAcknowledge({}, 'stored')).toEqual({ ack: 'stored' });
    expect(requestedAcknowledge(undefined, 'stored')).toEqual({ ack: 'stored' });
    expect(requestedAcknowledge({ other: 'x' }, 'logged')).toEqual({ ack: 'logged' });
  });

  it('refuses any other value, naming the parameter, its values and the setting', () => {
    for (const query of [{ ack: 'LOGGED' }, { ack: '' }, { ack: 'durable' }, { ack: ['logged', 'stored'] }]) {
      const answer = requestedAcknowledge(query, 'stored');
      expect(answer, JSON.stringify(query)).toHaveProperty('error');
      const { error } = answer as { error: string };
      expect(error).toContain('ack must be one of stored, logged');
      expect(error).toContain('ingest.httpAcknowledge');
    }
    expect((requestedAcknowledge({ ack: 'durable' }, 'stored') as { error: string }).error).toContain('"durable"');
    expect((requestedAcknowledge({ ack: ['a', 'b'] }, 'stored') as { error: string }).error).toContain('2 values');
  });

  it('reads the setting from the environment, stored by default, and refuses other values naming it', () => {
    expect(loadConfig({ env: {} }).ingest.httpAcknowledge).toBe('stored');
    expect(loadConfig({ env: { HALFLIFE_INGEST_HTTP_ACKNOWLEDGE: 'logged' } }).ingest.httpAcknowledge).toBe('logged');
    expect(() => loadConfig({ env: { HALFLIFE_INGEST_HTTP_ACKNOWLEDGE: 'durable' } })).toThrow(/httpAcknowledge/);
  });
});
