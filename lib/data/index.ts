export {
  DTYPES,
  ITEM_SIZE,
  elementCount,
  toFloat32,
  toInt32Labels,
  type DType,
  type Tensor,
  type TensorData,
} from './tensor.js';
export { encodeNpy, parseNpy, readNpy, writeNpy } from './npy.js';
export { parseNpz, readNpz, type NpzOptions } from './npz.js';
export { parseIdx, readIdx, readIdxHeader } from './idx.js';
export {
  encodeSafetensors,
  parseSafetensors,
  readSafetensors,
  writeSafetensors,
  type Safetensors,
} from './safetensors.js';
export { fashionMnistDir, loadFashionMnist, loadMnist, mnistDir, readIdxPair, selectClasses, type LabelledImages } from './datasets.js';
