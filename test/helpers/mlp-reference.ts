// The whole NC-controlled MLP in float64 with dense ETF matrices: loss = CE_ls + α·L_ent, for finite differences.
import { ceLsReference, etfMatrix, layerNormReference, nnEntropyValue } from './training-reference.js';

export interface MlpShape {
  widths: number[];
  classes: number;
  projectorHidden: number;
  layerNorm?: boolean;
}

/** Parameter sizes in the native order: per encoder layer W, b (and γ, β with LayerNorm), then the classifier's W, b. */
export function parameterSizes(s: MlpShape): number[] {
  const out: number[] = [];
  for (let l = 0; l + 1 < s.widths.length; l++) {
    const [inp, width] = [s.widths[l], s.widths[l + 1]];
    out.push(width * inp, width, ...(s.layerNorm ? [width, width] : []));
  }
  return [...out, s.classes * s.widths[s.widths.length - 1], s.classes];
}

function linear(x: Float64Array, rows: number, inp: number, out: number, w: ArrayLike<number>, b: ArrayLike<number>, relu: boolean) {
  const y = new Float64Array(rows * out);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < out; o++) {
      let s = b[o];
      for (let i = 0; i < inp; i++) s += x[r * inp + i] * w[o * inp + i];
      y[r * out + o] = relu ? Math.max(0, s) : s;
    }
  }
  return y;
}

/** Loss of a batch given all parameters flattened in one array (the layout of parameter_sizes()). */
export function mlpLossReference(shape: MlpShape, flat: Float64Array, x: ArrayLike<number>, y: Int32Array, alpha: number, eps: number, neighbours?: number[]) {
  const rows = y.length;
  let offset = 0;
  const take = (n: number) => flat.subarray(offset, (offset += n));
  let h = Float64Array.from(x);
  for (let l = 0; l + 1 < shape.widths.length; l++) {
    const [inp, out] = [shape.widths[l], shape.widths[l + 1]];
    if (shape.layerNorm) {
      const pre = linear(h, rows, inp, out, take(out * inp), take(out), false);
      h = layerNormReference(pre, rows, out, take(out), take(out), true).y;
    } else {
      h = linear(h, rows, inp, out, take(out * inp), take(out), true);
    }
  }
  const e = h;
  const d = shape.widths[shape.widths.length - 1];
  let features = e;
  if (shape.projectorHidden) {
    const H = shape.projectorHidden;
    const hidden = linear(e, rows, d, H, etfMatrix(H, d, d), new Float64Array(H), true);
    const u = linear(hidden, rows, H, d, etfMatrix(d, H, d), new Float64Array(d), false);
    features = u.map((v, k) => {
      const r = Math.floor(k / d);
      const norm = Math.hypot(...u.subarray(r * d, (r + 1) * d));
      return v / Math.max(norm, 1e-8);
    });
  }
  const logits = linear(features, rows, d, shape.classes, take(shape.classes * d), take(shape.classes), false);
  const ce = ceLsReference(logits, y, shape.classes, eps).loss;
  const ent = alpha !== 0 && rows >= 2 ? nnEntropyValue(e, rows, d, neighbours) : { loss: 0, neighbours: [] };
  return { loss: ce + alpha * ent.loss, neighbours: ent.neighbours };
}
