/** Input the backtest cannot use (out-of-order rows, nothing to train on, …). The CLI maps it to exit code 3. */
export class BacktestInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BacktestInputError';
  }
}
