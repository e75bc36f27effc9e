// "classes = largest label + 1", written once. A loop, never Math.max(...labels): spreading a few hundred thousand
// labels overflows the call stack.
import { fail } from '../errors.js';

/** The class count of labels seen chunk by chunk (a stream, or a train and a test split). */
export class ClassCounter {
  #largest = -1;

  /** Negative labels are ERR_LABEL_RANGE. */
  add(labels: ArrayLike<number>, what: string): this {
    let largest = this.#largest;
    for (let i = 0; i < labels.length; i++) {
      const y = labels[i];
      if (y < 0) fail('ERR_LABEL_RANGE', what, 'labels ≥ 0', String(y));
      if (y > largest) largest = y;
    }
    this.#largest = largest;
    return this;
  }

  /** The largest label + 1; ERR_SHAPE when no label was added. */
  count(what: string): number {
    if (this.#largest < 0) fail('ERR_SHAPE', what, 'at least one label', 'none');
    return this.#largest + 1;
  }
}

/** The number of classes the labels imply: the largest label (over every array) + 1. */
export function classCount(what: string, ...labels: ArrayLike<number>[]): number {
  const counter = new ClassCounter();
  for (const l of labels) counter.add(l, what);
  return counter.count(what);
}
