import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project checkout (where package.json is). */
export const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** What `npm run setup` installs, under the gitignored .halflife/ directory. */
export const installed = {
  home: path.join(projectRoot, '.halflife'),
  temporalCli: path.join(projectRoot, '.halflife/venv/bin/temporal'),
  temporalTestServer: path.join(projectRoot, '.halflife/venv/bin/temporal-test-server'),
  kafkaLibs: path.join(projectRoot, '.halflife/kafka/libs'),
  devPython: path.join(projectRoot, '.halflife/venv-dev/bin/python'),
};

/** Where local services keep data, logs and pid files inside the configured data directory. */
export function serviceDirs(dataDir: string) {
  return {
    temporalDb: path.join(dataDir, 'temporal/temporal.db'),
    kafkaData: path.join(dataDir, 'kafka'),
    logs: path.join(dataDir, 'logs'),
    run: path.join(dataDir, 'run'),
  };
}
