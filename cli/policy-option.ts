import { statSync } from 'node:fs';
import { ConfigError } from '../platform/errors.ts';
import { loadPolicyFile, type LoadedPolicy } from '../platform/policy-file.ts';

/**
 * The retrain policy a command's `--policy <file>` names: read and validated by the loader every
 * command uses, a missing path named as `backtest --policy` names it.
 */
export function loadPolicyOption(
  file: string,
  /** How the command's usage names the file, for the message. @default '--policy' */
  named = '--policy',
): LoadedPolicy {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
  } catch {
    throw new ConfigError(`${named} ${file}: no such file or directory`);
  }
  if (!isFile) throw new ConfigError(`${named} ${file}: not a file (name one policy YAML file)`);
  return loadPolicyFile(file);
}
