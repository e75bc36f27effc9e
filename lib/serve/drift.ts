// The drift alarm: a calibrated detector flags about 1 − tpr of in-distribution rows as OOD. Over a sliding window of
// the last N decisions, the window's OOD count k is tested against that rate: the p-value P(X ≥ k) for
// X ~ Binomial(N, 1 − tpr) is small when far more rows are flagged than calibration predicts (traffic has drifted).

/** A ring of the last `size` decisions (1 = OOD) with a running count. */
export class DecisionWindow {
  readonly size: number;
  readonly #ring: Uint8Array;
  #next = 0;
  #filled = 0;
  #ood = 0;

  constructor(size: number) {
    this.size = size;
    this.#ring = new Uint8Array(size);
  }

  push(isOOD: Uint8Array): void {
    // Only the last `size` of a long batch can stay in the window.
    for (let i = Math.max(0, isOOD.length - this.size); i < isOOD.length; i++) {
      const v = isOOD[i] ? 1 : 0;
      if (this.#filled === this.size) this.#ood -= this.#ring[this.#next];
      else this.#filled++;
      this.#ring[this.#next] = v;
      this.#ood += v;
      this.#next = (this.#next + 1) % this.size;
    }
  }

  /** Decisions in the window (< size until it fills). */
  get count(): number {
    return this.#filled;
  }

  get oodCount(): number {
    return this.#ood;
  }
}

const logFactorials: number[] = [0];

function logFactorial(n: number): number {
  for (let k = logFactorials.length; k <= n; k++) logFactorials.push(logFactorials[k - 1] + Math.log(k));
  return logFactorials[n];
}

/** P(X ≥ k) for X ~ Binomial(n, p), summed in log space (exact to rounding; O(n − k), fine for windows of 10^5). */
export function binomialUpperTail(k: number, n: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const [lp, lq] = [Math.log(p), Math.log1p(-p)];
  const logs: number[] = [];
  let max = -Infinity;
  for (let i = k; i <= n; i++) {
    const l = logFactorial(n) - logFactorial(i) - logFactorial(n - i) + i * lp + (n - i) * lq;
    logs.push(l);
    if (l > max) max = l;
  }
  let sum = 0;
  for (const l of logs) sum += Math.exp(l - max);
  return Math.min(1, Math.exp(max) * sum);
}
