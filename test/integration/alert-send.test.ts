import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertNotification, AlertReceiver as Receiver } from '../../detectors/alerts/types.ts';
import { payloadDigest, sendAlert } from '../../operations/alerts/send-alert.ts';
import { AlertReceiver } from '../helpers/alert-receiver.ts';

const notification: AlertNotification = {
  notificationId: 'halflife-alert/m/drift/1/1',
  sequence: 1,
  type: 'firing',
  alert: {
    key: 'm/drift',
    episodeId: 'halflife-alert/m/drift/1',
    modelId: 'm',
    modelVersion: 'v1',
    rule: 'drift',
    kind: 'drift',
    severity: 'warning',
    subject: null,
    summary: 'm: input drift',
    description: 'm drifted',
    details: {},
    startsAt: 1,
    receivers: ['r'],
  },
  resolvedAt: null,
  resolution: null,
  notifiedAt: 1,
  source: { workflowId: 'w', runId: 'r', policy: null },
};

const receiverDef = (over: Partial<Receiver> = {}): Receiver => ({
  name: 'r',
  format: 'json',
  url: { env: 'URL_VAR' },
  token: { env: 'TOKEN_VAR' },
  timeout: '1s',
  resendEvery: '5m',
  ...over,
});

describe('one send to one receiver: outcomes, and no secret in what it reports', () => {
  const receiver = new AlertReceiver();
  const token = 'tok-7d1c9e4fa2b3';
  let base: string;

  beforeAll(async () => {
    base = await receiver.start();
  });
  afterAll(() => receiver.stop());

  const send = (path: string, over: Partial<Receiver> = {}, env?: Record<string, string>) =>
    sendAlert({
      notification,
      receiver: receiverDef(over),
      sentAt: 1000,
      env: env ?? { URL_VAR: `${base}${path}`, TOKEN_VAR: token },
    });

  it('delivered: 2xx, with the bearer token, the alert id header, and the digest of the bytes sent', async () => {
    const result = await send('/ok/s3cretpath');
    expect(result).toMatchObject({ outcome: 'delivered', retryable: false, httpStatus: 200, error: null });
    const request = receiver.requests.at(-1)!;
    expect(request.headers.authorization).toBe(`Bearer ${token}`);
    expect(request.headers['x-halflife-alert-id']).toBe(notification.notificationId);
    expect(request.headers['content-type']).toBe('application/json');
    expect(result.payloadDigest).toBe(payloadDigest(request.body));
  });

  it('5xx, 408 and 429 are worth retrying; other 4xx are refusals; error texts are stripped of secrets', async () => {
    receiver.script('/busy/s3cretpath', [{ status: 503 }]);
    receiver.script('/slow/s3cretpath', [{ status: 429 }]);
    receiver.script('/auth/s3cretpath', [{ status: 401 }]);
    expect(await send('/busy/s3cretpath')).toMatchObject({ outcome: 'failed', retryable: true, httpStatus: 503 });
    expect(await send('/slow/s3cretpath')).toMatchObject({ outcome: 'failed', retryable: true, httpStatus: 429 });
    const refused = await send('/auth/s3cretpath');
    expect(refused).toMatchObject({ outcome: 'rejected', retryable: false, httpStatus: 401 });
    expect(refused.error).toBe('HTTP 401: receiver error');
  });

  it('a receiver that does not answer in time is a timeout', async () => {
    receiver.script('/hang', ['hang']);
    const result = await send('/hang', { timeout: '300ms' });
    expect(result).toMatchObject({
      outcome: 'timeout',
      retryable: true,
      httpStatus: null,
      error: 'no answer within 300ms',
    });
  });

  it('a refused connection is a retryable failure whose text names neither host, port nor path', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const url = `http://127.0.0.1:${closed}/hooks/s3cretpath`;
    const result = await send('', {}, { URL_VAR: url, TOKEN_VAR: token });
    expect(result).toMatchObject({ outcome: 'failed', retryable: true, httpStatus: null });
    expect(result.error).toContain('ECONNREFUSED');
    expect(result.error).not.toContain(String(closed));
    expect(result.error).not.toContain('s3cretpath');
  });

  it('a missing or malformed variable is a misconfiguration naming the variable, never a value', async () => {
    const missing = await send('/ok', {}, { URL_VAR: `${base}/ok` });
    expect(missing).toMatchObject({ outcome: 'misconfigured', retryable: true, httpStatus: null });
    expect(missing.error).toBe('environment variable TOKEN_VAR is not set in the worker\'s environment (receiver "r")');
    const notUrl = await send('', {}, { URL_VAR: 'ftp://example.invalid/x', TOKEN_VAR: token });
    expect(notUrl.error).toBe('environment variable URL_VAR does not hold an http(s) URL (receiver "r")');
  });

  it('does not follow redirects (a token must not travel to another address)', async () => {
    const before = receiver.requests.length;
    receiver.script('/moved', [{ status: 307, headers: { location: `${base}/elsewhere` } }]);
    const result = await send('/moved');
    expect(result).toMatchObject({ outcome: 'failed', retryable: true });
    expect(receiver.requests.slice(before).map((r) => r.path)).toEqual(['/moved']);
  });
});
