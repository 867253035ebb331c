/** Which trainer a retrain uses, as the workflow input names it, and the {@link Trainer} it stands for. */
import { builtinTrainerFor } from './builtin-trainer.ts';
import { commandTrainer } from './command-trainer.ts';
import { TrainerError, type Trainer } from './trainer.ts';
import { BINARY_TARGET, type TrainingTarget } from './training-target.ts';

export type TrainerSpec =
  | { kind: 'builtin'; params: Record<string, unknown> }
  | { kind: 'command'; command: string[]; params: Record<string, unknown> };

/** The trainer a spec names; the built-in one is chosen by what the model predicts. @default target binary */
export function trainerFor(spec: TrainerSpec, target: TrainingTarget = BINARY_TARGET): Trainer {
  if (spec.kind === 'builtin') return builtinTrainerFor(target);
  if (spec.kind === 'command') return commandTrainer(spec.command);
  throw new TrainerError(`unknown trainer kind ${JSON.stringify((spec as { kind: unknown }).kind)}`, true);
}
