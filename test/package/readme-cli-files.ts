// The .npy files the README's `npx ncod metrics` and `npx ncod eval` lines read, keyed by command, built from
// the same stand-in arrays as the JavaScript blocks. The package test writes them with the installed package's
// own writeNpy (one folder per command: both lines name an ood.npy, features for one, scores for the other).
import { bias, dim, features, idScores, labels, numClasses, oodFeatures, oodScores, weights } from './readme-inputs.js';

interface NpyFile {
  dtype: 'float32' | 'float64' | 'int32';
  shape: number[];
  data: Float32Array | Float64Array | Int32Array;
}

const half = Math.floor(labels.length / 2);

export const cliFiles: Record<string, Record<string, NpyFile>> = {
  metrics: {
    'feats.npy': { dtype: 'float32', shape: [labels.length, dim], data: features },
    'y.npy': { dtype: 'int32', shape: [labels.length], data: labels },
    'W.npy': { dtype: 'float32', shape: [numClasses, dim], data: weights },
    'b.npy': { dtype: 'float32', shape: [numClasses], data: bias },
    'ood.npy': { dtype: 'float32', shape: [oodFeatures.length / dim, dim], data: oodFeatures },
    // The sharded line: the same rows as two shards, labels sharded alike.
    'part-0.npy': { dtype: 'float32', shape: [half, dim], data: features.subarray(0, half * dim) },
    'part-1.npy': { dtype: 'float32', shape: [labels.length - half, dim], data: features.subarray(half * dim) },
    'labels-0.npy': { dtype: 'int32', shape: [half], data: labels.subarray(0, half) },
    'labels-1.npy': { dtype: 'int32', shape: [labels.length - half], data: labels.subarray(half) },
  },
  eval: {
    'id.npy': { dtype: 'float64', shape: [idScores.length], data: idScores },
    'ood.npy': { dtype: 'float64', shape: [oodScores.length], data: oodScores },
  },
};
