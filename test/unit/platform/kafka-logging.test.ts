import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createProducer, isTransientKafkaError, kafkajsEntryLevel, kafkajsLevels } from '../../../platform/kafka.ts';

const response = (error: string): LogEntry => ({
  namespace: 'Connection',
  level: logLevel.ERROR,
  label: 'ERROR',
  log: { timestamp: '', message: 'Response GroupCoordinator(key: 10, version: 2)', error, correlationId: 2 },
});

describe('kafkajs log levels', () => {
  it('writes broker answers that only mean "not yet" (a coordinator loading, a leader election) at debug', () => {
    expect(kafkajsEntryLevel(response('The group coordinator is not available'))).toBe('debug');
    expect(
      kafkajsEntryLevel(response("The coordinator is loading and hence can't process requests for this group")),
    ).toBe('debug');
  });

  it('keeps real failures errors: an unreachable broker, an unknown topic, a crashed consumer', () => {
    expect(kafkajsEntryLevel(response('Connection error: connect ECONNREFUSED 127.0.0.1:9092'))).toBe('error');
    expect(kafkajsEntryLevel(response('This server does not host this topic-partition'))).toBe('error');
    const crash: LogEntry = {
      namespace: 'Consumer',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: {
        timestamp: '',
        message: 'Crash: KafkaJSNumberOfRetriesExceeded',
        error: 'The group coordinator is not available',
      },
    };
    expect(kafkajsEntryLevel(crash)).toBe('error');
  });

  it('writes a consumer crash on such an answer, and the restart kafkajs announces after it, at debug', () => {
    const levelOf = kafkajsLevels();
    const consumer = (message: string): LogEntry => ({
      namespace: 'Consumer',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { timestamp: '', message, groupId: 'g' },
    });
    const loading = "The coordinator is loading and hence can't process requests for this group";
    expect(levelOf(consumer(`Crash: KafkaJSProtocolError: ${loading}`))).toBe('debug');
    expect(levelOf(consumer('Restarting the consumer in 300ms'))).toBe('debug');
    // A crash on a real failure, and its restart, stay errors.
    expect(levelOf(consumer('Crash: KafkaJSNumberOfRetriesExceeded: Connection error: connect ECONNREFUSED'))).toBe(
      'error',
    );
    expect(levelOf(consumer('Restarting the consumer in 300ms'))).toBe('error');
    expect(isTransientKafkaError(Object.assign(new Error('retries exceeded'), { cause: new Error(loading) }))).toBe(
      true,
    );
    expect(isTransientKafkaError(new Error('Connection error: connect ECONNREFUSED'))).toBe(false);
  });

  it('writes a dropped connection kafkajs recovers from, the consumer crash on it and its restart, as warnings', () => {
    const levelOf = kafkajsLevels();
    const entry = (namespace: string, message: string): LogEntry => ({
      namespace,
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { timestamp: '', message, groupId: 'g' },
    });
    expect(levelOf(entry('Connection', 'Connection error: write after end'))).toBe('warn');
    expect(levelOf(entry('Consumer', 'Crash: KafkaJSConnectionError: Connection error: write after end'))).toBe('warn');
    expect(levelOf(entry('Consumer', 'Restarting the consumer in 300ms'))).toBe('warn');
    // The restart after a crash on a real failure is still an error, whatever came before.
    expect(levelOf(entry('Consumer', 'Crash: KafkaJSConnectionError: Connection error: connect ECONNREFUSED'))).toBe(
      'error',
    );
    expect(levelOf(entry('Consumer', 'Restarting the consumer in 300ms'))).toBe('error');
    // A broker that refuses connections is not a dropped one.
    expect(levelOf(entry('Connection', 'Connection error: connect ECONNREFUSED 127.0.0.1:9092'))).toBe('error');
  });

  it('gives an idempotent producer unbounded retries, so kafkajs has nothing to warn about', () => {
    const warnings: string[] = [];
    const kafka = new Kafka({
      brokers: ['127.0.0.1:1'],
      retry: { retries: 8 },
      logLevel: logLevel.WARN,
      logCreator: () => (entry) => void warnings.push(entry.log.message),
    });
    createProducer(kafka, { idempotent: true, maxInFlightRequests: 1 });
    expect(warnings.filter((w) => w.includes('idempotent'))).toEqual([]);
    // What the default client retries would have caused:
    kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    expect(warnings.filter((w) => w.includes('idempotent'))).toHaveLength(1);
  });
});
