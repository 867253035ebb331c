/** Which trainer a retrain uses, as the workflow input names it, and the {@link Trainer} it stands for. */
import { builtinLogisticTrainer } from './builtin-trainer.ts';
import { commandTrainer } from './command-trainer.ts';
import { TrainerError, type Trainer } from './trainer.ts';

export type TrainerSpec =
  | { kind: 'builtin'; params: Record<string, unknown> }
  | { kind: 'command'; command: string[]; params: Record<string, unknown> };

export function trainerFor(spec: TrainerSpec): Trainer {
  if (spec.kind === 'builtin') return builtinLogisticTrainer;
  if (spec.kind === 'command') return commandTrainer(spec.command);
  throw new TrainerError(`unknown trainer kind ${JSON.stringify((spec as { kind: unknown }).kind)}`, true);
}
