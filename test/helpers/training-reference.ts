// Float64 references for the method's loss terms and projector, straight from METHOD.md §2–3, with
// central finite differences to check their own gradients.

export function ceLsReference(logits: ArrayLike<number>, labels: ArrayLike<number>, K: number, eps: number) {
  const B = labels.length;
  const grad = new Float64Array(B * K);
  let loss = 0;
  for (let r = 0; r < B; r++) {
    const z = Array.from({ length: K }, (_, c) => logits[r * K + c]);
    const max = Math.max(...z);
    const lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
    for (let c = 0; c < K; c++) {
      const t = (c === labels[r] ? 1 - eps : 0) + eps / K;
      loss += -t * (z[c] - lse);
      grad[r * K + c] = (Math.exp(z[c] - lse) - t) / B;
    }
  }
  return { loss: loss / B, grad };
}

function normalized(e: ArrayLike<number>, r: number, d: number) {
  const row = Array.from({ length: d }, (_, k) => e[r * d + k]);
  const norm = Math.hypot(...row);
  return { hat: row.map((v) => v / Math.max(norm, 1e-8)), norm };
}

/** Returns the loss and the neighbour of each row; `neighbours` fixes them (for finite differences). */
export function nnEntropyValue(e: ArrayLike<number>, B: number, d: number, neighbours?: number[]) {
  const hats = Array.from({ length: B }, (_, r) => normalized(e, r, d).hat);
  const nn: number[] = [];
  let loss = 0;
  for (let i = 0; i < B; i++) {
    let j = neighbours?.[i] ?? -1;
    if (j < 0) {
      let best = -Infinity;
      for (let k = 0; k < B; k++) {
        if (k === i) continue;
        const cos = hats[i].reduce((s, v, m) => s + v * hats[k][m], 0);
        if (cos > best) [best, j] = [cos, k];
      }
    }
    nn.push(j);
    const dist = Math.hypot(...hats[i].map((v, m) => v - hats[j][m] + 1e-8));
    loss -= Math.log(dist + 1e-8);
  }
  return { loss: loss / B, neighbours: nn };
}

export function nnEntropyReference(e: ArrayLike<number>, B: number, d: number) {
  const hats = Array.from({ length: B }, (_, r) => normalized(e, r, d));
  const { loss, neighbours } = nnEntropyValue(e, B, d);
  const gradHat = Array.from({ length: B }, () => new Float64Array(d));
  for (let i = 0; i < B; i++) {
    const j = neighbours[i];
    const v = hats[i].hat.map((x, m) => x - hats[j].hat[m] + 1e-8);
    const dist = Math.hypot(...v);
    const coef = -1 / (B * dist * (dist + 1e-8));
    for (let m = 0; m < d; m++) {
      gradHat[i][m] += coef * v[m];
      gradHat[j][m] -= coef * v[m];
    }
  }
  const grad = new Float64Array(B * d);
  for (let r = 0; r < B; r++) {
    const { hat, norm } = hats[r];
    const dot = hat.reduce((s, x, m) => s + x * gradHat[r][m], 0);
    for (let m = 0; m < d; m++) grad[r * d + m] = norm > 1e-8 ? (gradHat[r][m] - hat[m] * dot) / norm : gradHat[r][m] / 1e-8;
  }
  return { loss, grad, neighbours };
}

/** The dense ETF layer A = √(c/(c−1))·(I_{m×n} − 1/c), m×n row-major. */
export function etfMatrix(m: number, n: number, c: number): Float64Array {
  const s = Math.sqrt(c / (c - 1));
  return Float64Array.from({ length: m * n }, (_, k) => s * ((Math.floor(k / n) === k % n ? 1 : 0) - 1 / c));
}

/** z = normalize(A₂ relu(A₁ e)) per row with dense matrices. */
export function projectorReference(e: ArrayLike<number>, B: number, d: number, h: number): Float64Array {
  const a1 = etfMatrix(h, d, d);
  const a2 = etfMatrix(d, h, d);
  const z = new Float64Array(B * d);
  for (let r = 0; r < B; r++) {
    const hid = Array.from({ length: h }, (_, i) => Math.max(0, Array.from({ length: d }, (_, j) => a1[i * d + j] * e[r * d + j]).reduce((s, v) => s + v, 0)));
    const u = Array.from({ length: d }, (_, i) => hid.reduce((s, v, j) => s + a2[i * h + j] * v, 0));
    const norm = Math.max(Math.hypot(...u), 1e-8);
    for (let i = 0; i < d; i++) z[r * d + i] = u[i] / norm;
  }
  return z;
}

/** torch.nn.LayerNorm over each row of x (rows×cols), eps 1e-5, then y = γ·x̂ + β and an optional ReLU (float64). */
export function layerNormReference(x: ArrayLike<number>, rows: number, cols: number, gamma: ArrayLike<number>, beta: ArrayLike<number>, relu: boolean) {
  const y = new Float64Array(rows * cols);
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let c = 0; c < cols; c++) s += x[r * cols + c];
    mean[r] = s / cols;
    let v = 0;
    for (let c = 0; c < cols; c++) v += (x[r * cols + c] - mean[r]) ** 2;
    rstd[r] = 1 / Math.sqrt(v / cols + 1e-5);
    for (let c = 0; c < cols; c++) {
      const o = gamma[c] * (x[r * cols + c] - mean[r]) * rstd[r] + beta[c];
      y[r * cols + c] = relu ? Math.max(0, o) : o;
    }
  }
  return { y, mean, rstd };
}

/** Central differences of f at x, one coordinate at a time (float64). */
export function finiteDifferences(f: (x: Float64Array) => number, x: Float64Array, step = 1e-6): Float64Array {
  const grad = new Float64Array(x.length);
  for (let k = 0; k < x.length; k++) {
    const keep = x[k];
    x[k] = keep + step;
    const up = f(x);
    x[k] = keep - step;
    const down = f(x);
    x[k] = keep;
    grad[k] = (up - down) / (2 * step);
  }
  return grad;
}
