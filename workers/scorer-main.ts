/**
 * Entry point of a stand-alone scorer process (`tsx workers/scorer-main.ts`). It needs Kafka and
 * the artifact store (`<dataDir>/artifacts`), not ClickHouse, so it can run next to a daemon.
 */
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { Scorer } from './scorer.ts';

const config = loadConfig({ file: process.env.HALFLIFE_CONFIG });
const log = createLogger('scorer', config.logLevel);
const scorer = new Scorer({ config, log });

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, 'stopping the scorer');
  await scorer.stop();
  log.info({ stats: scorer.stats }, 'scorer stopped');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));

scorer.start().catch((err: unknown) => {
  log.fatal({ err }, 'scorer failed to start');
  process.exit(1);
});
