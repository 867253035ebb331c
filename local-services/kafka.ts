import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { installed, serviceDirs } from '../platform/paths.ts';
import type { LocalService } from './service.ts';
import { portOpen, startProcess } from './process.ts';
import { execFileSync } from 'node:child_process';

export interface KafkaBrokerOptions {
  dataDir: string;
  /** Client listener port. @default 9092 */
  port: number;
  /** KRaft controller port. @default 9093 */
  controllerPort: number;
  /** JVM heap, e.g. "512m". @default "512m" */
  heap: string;
  /** Partitions of auto-created topics. @default 4 */
  partitions: number;
  /** Largest record batch the broker takes (`message.max.bytes`, from `kafka.maxMessageBytes`). @default 1048588 */
  maxMessageBytes: number;
}

/** A single-node KRaft Kafka 4 broker run from the jars setup placed in .halflife/kafka/libs. */
export function kafkaBroker(options: KafkaBrokerOptions): LocalService {
  const dirs = serviceDirs(options.dataDir);
  const address = `127.0.0.1:${options.port}`;
  const configFile = path.join(dirs.kafkaData, 'server.properties');
  const logDir = path.join(dirs.kafkaData, 'log');
  const classpath = `${installed.kafkaLibs}/*`;
  return {
    name: 'kafka',
    address,
    extra: {},
    logFile: path.join(dirs.logs, 'kafka.log'),
    pidFile: path.join(dirs.run, 'kafka.pid'),
    ports: [options.port, options.controllerPort],
    start() {
      if (!existsSync(installed.kafkaLibs)) throw new Error('Kafka jars are missing: run `npm run setup`');
      mkdirSync(dirs.kafkaData, { recursive: true });
      writeFileSync(configFile, brokerProperties(options, logDir));
      writeFileSync(path.join(dirs.kafkaData, 'log4j2.properties'), LOG4J2);
      // KRaft storage is formatted once; after that the cluster id lives in meta.properties.
      if (!existsSync(path.join(logDir, 'meta.properties'))) {
        const clusterId = newClusterId();
        execFileSync(
          'java',
          [
            '-cp',
            classpath,
            'kafka.tools.StorageTool',
            'format',
            '-t',
            clusterId,
            '-c',
            configFile,
            '--ignore-formatted',
          ],
          { stdio: 'pipe' },
        );
      }
      return startProcess(
        'java',
        [
          `-Xmx${options.heap}`,
          `-Xms${options.heap}`,
          '-XX:+UseG1GC',
          '-XX:MaxGCPauseMillis=20',
          '-Djava.awt.headless=true',
          `-Dlog4j2.configurationFile=${path.join(dirs.kafkaData, 'log4j2.properties')}`,
          `-Dkafka.logs.dir=${dirs.logs}`,
          '-cp',
          classpath,
          'kafka.Kafka',
          configFile,
        ],
        { logFile: this.logFile, pidFile: this.pidFile },
      );
    },
    async health() {
      if (!(await portOpen(options.port))) return false;
      const kafka = new Kafka({
        brokers: [address],
        clientId: 'halflife-health',
        logLevel: logLevel.NOTHING,
        connectionTimeout: 2000,
        retry: { retries: 0 },
      });
      const admin = kafka.admin();
      try {
        await admin.connect();
        const cluster = await admin.describeCluster();
        return cluster.brokers.length > 0 && cluster.controller !== null;
      } finally {
        await admin.disconnect();
      }
    },
  };
}

function brokerProperties(o: KafkaBrokerOptions, logDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${o.controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${o.port},CONTROLLER://127.0.0.1:${o.controllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${o.port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${logDir}`,
    `num.partitions=${o.partitions}`,
    // What the HTTP log checks each record against (http.ts): one setting for both.
    `message.max.bytes=${o.maxMessageBytes}`,
    // One node: every internal topic has a single replica.
    'offsets.topic.replication.factor=1',
    'share.coordinator.state.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    // A local broker should hand out partitions at once, not after the default 3 s.
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=true',
    'log.retention.hours=168',
    '',
  ].join('\n');
}

const LOG4J2 = `status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = warn
logger.server.name = kafka.server.KafkaRaftServer
logger.server.level = info
`;

/**
 * A KRaft cluster id: 16 random bytes in base64url. One that starts with '-' would be read by the
 * storage tool as an option (about 1 start in 64 failed that way), so such ids are drawn again.
 */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url').slice(0, 22);
    if (/^[A-Za-z0-9]/.test(id)) return id;
  }
}
