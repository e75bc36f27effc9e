// "classes = largest label + 1", the one helper every command and bench loader uses.
import { describe, expect, it } from 'vitest';

import { classCount, ClassCounter } from '../../lib/data/class-count.js';

describe('classCount', () => {
  it('is the largest label over every array, plus one', () => {
    expect(classCount('labels', Int32Array.of(0, 3, 1))).toBe(4);
    expect(classCount('labels', Int32Array.of(0, 1), Int32Array.of(6, 2))).toBe(7);
    expect(classCount('labels', [0, 0, 0])).toBe(1);
  });

  it('takes label sets far beyond the call-stack limit of Math.max(...labels)', () => {
    const labels = Int32Array.from({ length: 2_000_000 }, (_, i) => (i * 7919) % 100_003);
    expect(() => Math.max(...labels)).toThrow(RangeError); // why the helper loops
    expect(classCount('labels', labels)).toBe(100_003);
  });

  it('refuses negative labels and no labels at all', () => {
    expect(() => classCount('train labels', Int32Array.of(2, -1))).toThrowError(
      expect.objectContaining({ code: 'ERR_LABEL_RANGE', message: 'train labels: expected labels ≥ 0, got -1' }),
    );
    expect(() => classCount('labels', new Int32Array(0), [])).toThrowError(expect.objectContaining({ code: 'ERR_SHAPE' }));
  });

  it('counts chunk by chunk as a stream delivers them', () => {
    const counter = new ClassCounter();
    expect(() => counter.count('labels')).toThrowError(expect.objectContaining({ code: 'ERR_SHAPE' }));
    counter.add(Int32Array.of(4, 1), 'labels').add(Int32Array.of(9), 'labels').add(new Int32Array(0), 'labels');
    expect(counter.count('labels')).toBe(10);
  });
});
