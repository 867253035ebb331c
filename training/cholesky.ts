/** Linear solves the built-in trainers share. */

/** Solves H x = g for symmetric positive definite H given by its lower triangle (overwritten). */
export function choleskySolve(H: Float64Array, g: Float64Array, D: number): Float64Array {
  for (let j = 0; j < D; j++) {
    let s = H[j * D + j] as number;
    for (let k = 0; k < j; k++) s -= (H[j * D + k] as number) ** 2;
    const ljj = Math.sqrt(Math.max(s, 1e-300));
    H[j * D + j] = ljj;
    for (let i = j + 1; i < D; i++) {
      let t = H[i * D + j] as number;
      for (let k = 0; k < j; k++) t -= (H[i * D + k] as number) * (H[j * D + k] as number);
      H[i * D + j] = t / ljj;
    }
  }
  const z = new Float64Array(D);
  for (let i = 0; i < D; i++) {
    let s = g[i] as number;
    for (let k = 0; k < i; k++) s -= (H[i * D + k] as number) * (z[k] as number);
    z[i] = s / (H[i * D + i] as number);
  }
  const x = new Float64Array(D);
  for (let i = D - 1; i >= 0; i--) {
    let s = z[i] as number;
    for (let k = i + 1; k < D; k++) s -= (H[k * D + i] as number) * (x[k] as number);
    x[i] = s / (H[i * D + i] as number);
  }
  return x;
}
