"""
Writes files in the layout torch.save uses (the zip format of PyTorch >= 1.6), without PyTorch, for ncod's .pt
reader tests. It follows torch/serialization.py `_save` and torch/_tensor.py `__reduce_ex__`:

- the object is pickled (protocol 2 by default, like torch.save) by a Pickler whose persistent_id turns each
  storage into ('storage', torch.<Type>Storage, key, 'cpu', numel), keys '0', '1', ... in first-use order;
- a tensor pickles as torch._utils._rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad,
  OrderedDict()), a Parameter as torch._utils._rebuild_parameter(tensor, requires_grad, OrderedDict());
- the zip holds <prefix>/data.pkl, <prefix>/byteorder, <prefix>/data/<key> (sorted by key), <prefix>/version and
  <prefix>/.data/serialization_id, stored (not deflated), each record's data aligned to 64 bytes by an 'FB' extra
  field as PyTorchStreamWriter does.

The torch names are fake module-level objects registered under torch's module names, so pickle writes exactly the
GLOBAL opcodes torch would. Import this file from a test's Python snippet (sys.path has test/helpers).
"""
import collections
import io
import pickle
import struct
import sys
import types
import zipfile

import numpy as np

_torch = types.ModuleType('torch')
_utils = types.ModuleType('torch._utils')
_torch._utils = _utils


def _fake_function(module, name):
    def f(*args):
        raise RuntimeError('fixture stand-in for ' + module + '.' + name)
    f.__module__ = module
    f.__name__ = f.__qualname__ = name
    return f


_rebuild_tensor_v2 = _fake_function('torch._utils', '_rebuild_tensor_v2')
_rebuild_parameter = _fake_function('torch._utils', '_rebuild_parameter')
_utils._rebuild_tensor_v2 = _rebuild_tensor_v2
_utils._rebuild_parameter = _rebuild_parameter

# numpy dtype -> torch storage class name. bfloat16 has no numpy dtype: pass its bits as uint16 with kind='bfloat16'.
STORAGE_NAMES = {
    'float16': 'HalfStorage', 'bfloat16': 'BFloat16Storage', 'float32': 'FloatStorage', 'float64': 'DoubleStorage',
    'int8': 'CharStorage', 'int16': 'ShortStorage', 'int32': 'IntStorage', 'int64': 'LongStorage',
    'uint8': 'ByteStorage', 'bool': 'BoolStorage',
}
for _name in set(STORAGE_NAMES.values()):
    setattr(_torch, _name, type(_name, (), {'__module__': 'torch'}))
sys.modules['torch'] = _torch
sys.modules['torch._utils'] = _utils


class Storage:
    """A flat buffer of one dtype, like torch's TypedStorage."""

    def __init__(self, array, kind=None):
        self.array = np.ascontiguousarray(array).reshape(-1)
        self.kind = kind or str(self.array.dtype)


class Tensor:
    """A strided view of a Storage (sizes and strides in elements), pickled like torch.Tensor."""

    def __init__(self, storage, offset, size, stride, requires_grad=False):
        self.storage, self.offset, self.size, self.stride = storage, offset, tuple(size), tuple(stride)
        self.requires_grad = requires_grad

    def __reduce_ex__(self, proto):
        return (_rebuild_tensor_v2, (self.storage, self.offset, self.size, self.stride, self.requires_grad, collections.OrderedDict()))


class Parameter:
    def __init__(self, tensor, requires_grad=True):
        self.tensor, self.requires_grad = tensor, requires_grad

    def __reduce_ex__(self, proto):
        return (_rebuild_parameter, (self.tensor, self.requires_grad, collections.OrderedDict()))


def tensor(array, kind=None):
    """A contiguous tensor holding a copy of `array` (C order)."""
    a = np.ascontiguousarray(array)
    strides = tuple(s // a.itemsize for s in a.strides) if a.size else tuple(0 for _ in a.shape)
    return Tensor(Storage(a, kind), 0, a.shape, strides)


def view(base, offset, size, stride):
    """Another view of base's storage, e.g. t.T or t[:, ::2] (what torch saves for a non-contiguous tensor)."""
    return Tensor(base.storage, offset, size, stride)


def _pickle(obj, protocol):
    keys = {}
    storages = {}

    class TorchPickler(pickle.Pickler):
        def persistent_id(self, o):
            if isinstance(o, Storage):
                key = keys.setdefault(id(o), str(len(keys)))
                storages[key] = o
                return ('storage', getattr(_torch, STORAGE_NAMES[o.kind]), key, 'cpu', o.array.size)
            return None

    buf = io.BytesIO()
    TorchPickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue(), storages


def _write_zip(path, records):
    """Stored records, each record's data 64-byte aligned via an 'FB' extra field (PyTorchStreamWriter's padding)."""
    with open(path, 'wb') as f, zipfile.ZipFile(f, 'w', zipfile.ZIP_STORED) as z:
        for name, data in records:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            start = f.tell() + 30 + len(name.encode()) + 4
            pad = (-start) % 64
            info.extra = b'FB' + struct.pack('<H', pad) + b'Z' * pad
            z.writestr(info, data)


def save(obj, path, protocol=2, byteorder='little', prefix='archive', with_byteorder=True):
    data_pkl, storages = _pickle(obj, protocol)
    records = [(prefix + '/data.pkl', data_pkl)]
    if with_byteorder:
        records.append((prefix + '/byteorder', byteorder.encode()))
    for key in sorted(storages):
        a = storages[key].array
        if byteorder == 'big':
            a = a.astype(a.dtype.newbyteorder('>'))
        records.append((prefix + '/data/' + key, a.tobytes()))
    records.append((prefix + '/version', b'3\n'))
    records.append((prefix + '/.data/serialization_id', b'1234567890123456789012345678901234567890'))
    _write_zip(path, records)


def save_pickle(data_pkl, path, prefix='archive'):
    """A torch.save-shaped zip around hand-written pickle bytes (hostile files)."""
    _write_zip(path, [(prefix + '/data.pkl', data_pkl), (prefix + '/byteorder', b'little'), (prefix + '/version', b'3\n')])
