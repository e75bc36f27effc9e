export {
  DTYPES,
  ITEM_SIZE,
  elementCount,
  isFloatDType,
  toFloat32,
  toInt32Labels,
  type DType,
  type Tensor,
  type TensorData,
} from './tensor.js';
export { encodeNpy, parseNpy, readNpy, writeNpy } from './npy.js';
export { parseNpz, readNpz, type NpzOptions } from './npz.js';
export { flattenTensors, loadPt, parsePt, readPt, PtTensor } from './pt.js';
export { unpickle, type PicklePolicy } from './pickle.js';
export { bfloat16ToFloat32, halfToFloat, halfToFloat32 } from './half.js';
export {
  parseArraySpec,
  readArray,
  readArrays,
  readFeatures,
  readFileArrays,
  readLabels,
  toFeatures,
  toFloatVector,
  toLabels,
  toScores,
  type ArrayFormat,
  type ArraySpec,
  type Features,
} from './read-array.js';
export { parseIdx, readIdx, readIdxHeader } from './idx.js';
export {
  encodeSafetensors,
  parseSafetensors,
  readSafetensors,
  writeSafetensors,
  type Safetensors,
} from './safetensors.js';
export { fashionMnistDir, loadFashionMnist, loadMnist, mnistDir, readIdxPair, selectClasses, type LabelledImages } from './datasets.js';
export { checkedBatches, isReiterable, type BatchSource, type CheckedBatch, type FeatureBatch } from './batches.js';
export { ArrayStream, classCountOf, FeatureFileSource, maxLabelOf, openFeatureSource, openNamedStreams, type FeatureSourceOptions } from './stream/source.js';
export { expandShards } from './stream/shards.js';
