/**
 * Send one alert message to one receiver, once: resolve the receiver's URL and secrets from the
 * environment, POST the body in its format, and say what happened. Retrying is the caller's job
 * (the AlertEpisode workflow's activity retry policy), so this makes exactly one attempt.
 *
 * Secrets stay out of everything this returns: error texts are stripped of the URL, its host and
 * path, the token and the key before they reach a record or a log.
 */
import { createHash } from 'node:crypto';
import type { AlertNotification, AlertReceiver } from '../../detectors/alerts/types.ts';
import { parseDuration } from '../../detectors/policy/duration.ts';
import { alertBody } from './payloads.ts';
import { SIGNATURE_HEADER, signAlert, TIMESTAMP_HEADER } from './signing.ts';

export type SendOutcome = 'delivered' | 'failed' | 'timeout' | 'rejected' | 'misconfigured';

export interface SendResult {
  outcome: SendOutcome;
  /** Worth trying again: network errors, timeouts, 5xx, 408, 425, 429, a missing variable (it may be set and the worker restarted). */
  retryable: boolean;
  httpStatus: number | null;
  /** What went wrong, secrets removed; null when delivered. */
  error: string | null;
  durationMs: number;
  /** sha256 of the exact body sent. */
  payloadDigest: string;
}

export interface SendAlertInput {
  notification: AlertNotification;
  receiver: AlertReceiver;
  /** When this send happens, as the workflow saw it (the body depends on it). */
  sentAt: number;
  /** Where the receiver's variables are read. @default process.env */
  env?: NodeJS.ProcessEnv;
}

const RETRYABLE_STATUS = new Set([408, 425, 429]);
/** Response text kept in an error, at most. */
const ERROR_TEXT_LIMIT = 200;

export function payloadDigest(body: string): string {
  return createHash('sha256').update(body).digest('hex');
}

export async function sendAlert({
  notification,
  receiver,
  sentAt,
  env = process.env,
}: SendAlertInput): Promise<SendResult> {
  const body = alertBody(receiver.format, notification, {
    sentAt,
    resendEveryMs: parseDuration(receiver.resendEvery),
  });
  const digest = payloadDigest(body);
  const started = performance.now();
  const finish = (result: Omit<SendResult, 'durationMs' | 'payloadDigest'>): SendResult => ({
    ...result,
    durationMs: Math.round((performance.now() - started) * 10) / 10,
    payloadDigest: digest,
  });

  const secrets = resolveSecrets(receiver, env);
  if ('missing' in secrets)
    return finish({
      outcome: 'misconfigured',
      retryable: true,
      httpStatus: null,
      error: `environment variable ${secrets.missing.join(', ')} is not set in the worker's environment (receiver "${receiver.name}")`,
    });
  let url: URL;
  try {
    url = new URL(secrets.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
  } catch {
    return finish({
      outcome: 'misconfigured',
      retryable: true,
      httpStatus: null,
      error: `environment variable ${receiver.url.env} does not hold an http(s) URL (receiver "${receiver.name}")`,
    });
  }
  const redact = redactor([
    secrets.url,
    url.host,
    url.pathname.length > 1 ? url.pathname : '',
    url.search,
    secrets.token,
    secrets.signingKey,
  ]);

  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': 'halflife-alerts/1',
    'x-halflife-alert-id': notification.notificationId,
  };
  if (secrets.token) headers.authorization = `Bearer ${secrets.token}`;
  if (secrets.signingKey) {
    const timestamp = Math.floor(Date.now() / 1000);
    headers[TIMESTAMP_HEADER] = String(timestamp);
    headers[SIGNATURE_HEADER] = signAlert(secrets.signingKey, timestamp, body);
  }

  const timeoutMs = parseDuration(receiver.timeout);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body,
      redirect: 'error',
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text().catch(() => '');
    if (response.ok)
      return finish({ outcome: 'delivered', retryable: false, httpStatus: response.status, error: null });
    const retryable = response.status >= 500 || RETRYABLE_STATUS.has(response.status);
    const snippet = text.trim().slice(0, ERROR_TEXT_LIMIT);
    return finish({
      outcome: retryable ? 'failed' : 'rejected',
      retryable,
      httpStatus: response.status,
      error: redact(`HTTP ${response.status}${snippet ? `: ${snippet}` : ''}`),
    });
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
    return finish({
      outcome: timedOut ? 'timeout' : 'failed',
      retryable: true,
      httpStatus: null,
      error: redact(timedOut ? `no answer within ${receiver.timeout}` : describeNetworkError(err)),
    });
  }
}

type Secrets = { url: string; token: string | undefined; signingKey: string | undefined } | { missing: string[] };

function resolveSecrets(receiver: AlertReceiver, env: NodeJS.ProcessEnv): Secrets {
  const missing: string[] = [];
  const read = (from: { env: string } | undefined): string | undefined => {
    if (!from) return undefined;
    const value = env[from.env];
    if (value === undefined || value === '') missing.push(from.env);
    return value;
  };
  const url = read(receiver.url);
  const token = read(receiver.token);
  const signingKey = read(receiver.signingKey);
  if (missing.length > 0 || url === undefined) return { missing };
  return { url, token, signingKey };
}

/** Replaces every occurrence of each secret part with "[redacted]". */
function redactor(parts: (string | undefined)[]): (text: string) => string {
  const secrets = parts
    .filter((p): p is string => typeof p === 'string' && p.length >= 4)
    .sort((a, b) => b.length - a.length);
  return (text) => secrets.reduce((out, secret) => out.split(secret).join('[redacted]'), text);
}

/** fetch's "fetch failed" hides the reason in its cause (ECONNREFUSED, ENOTFOUND, a TLS error...). */
function describeNetworkError(err: unknown): string {
  const messages: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    messages.push(typeof code === 'string' ? `${current.message} (${code})` : current.message);
    current = current.cause;
  }
  return messages.join(': ') || String(err);
}
