#!/usr/bin/env python3
"""Read, write and merge ncod NC state files (.ncstate) with NumPy only (no torch, no ncod).

A PyTorch DDP rank (or any Python process) accumulates the Neural Collapse statistics of its shard and writes
them; ``ncod merge part*.ncstate`` (or ``NcAccumulator.load`` + ``merge`` in Node) combines the shards exactly and
prints the NC metrics. The format is specified in docs/ncstate.md (format "ncod.nc-accumulator", version 2).

Example (one rank)::

    import sys; sys.path.insert(0, "node_modules/ncod/scripts/python")   # or copy this file next to your script
    from ncstate import NcState

    state = NcState(dim=512, classes=10)
    for x, y in loader:                      # x: B×512 features, y: B labels (torch tensors or arrays)
        state.add(x.cpu().numpy(), y.cpu().numpy())
    state.add_ood(ood_features)              # optional, for NC5
    state.save(f"part{rank}.ncstate")

    # then, anywhere:  npx ncod merge part*.ncstate --weights W.npy --bias b.npy --json

``NcState.load(path)`` reads and verifies a state file; ``a.merge(b)`` adds b's statistics to a.
From the shell: ``python3 ncstate.py check FILE...`` verifies files and prints their counts;
``python3 ncstate.py merge OUT FILE...`` merges files into OUT.

Features are rounded to float32 first (ncod reads features as float32), then accumulated in float64 about a
shift K, the mean of the first batch added, exactly as ncod's native accumulator does: the file's moments are
those ncod would have written, up to the order of float64 summation.
"""

import hashlib
import json
import os
import struct
import sys
import tempfile

import numpy as np

FORMAT = "ncod.nc-accumulator"
VERSION = 2
OLDEST_READABLE = 1
SIGNED_METADATA = ("format", "version", "dim", "classes", "writer")
WRITER = "ncstate.py (format 2)"
MAX_DIM = 16384
MAX_CLASSES = 2**20
MAX_HEADER_BYTES = 100 * 2**20


class NcStateError(ValueError):
    """A refused argument or file; the message reads "what: expected X, got Y" like ncod's errors."""


def _fail(what, expected, got):
    raise NcStateError(f"{what}: expected {expected}, got {got}")


def _size(value, what, lo, hi):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not lo <= int(value) <= hi:
        _fail(what, f"an integer in [{lo}, {hi}]", repr(value))
    return int(value)


def _features(x, dim, what):
    """x as an N×dim float64 array of float32-rounded, finite values."""
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != dim:
        _fail(what, f"an N×{dim} array", f"shape {list(x.shape)}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        _fail(what, "a numeric array", f"dtype {x.dtype}")
    x = x.astype(np.float32).astype(np.float64)
    if not np.isfinite(x).all():
        row, col = np.argwhere(~np.isfinite(x))[0]
        _fail(what, "finite values (after rounding to float32)", f"{x[row, col]} at [{row}, {col}]")
    return x


class NcState:
    """Mergeable float64 moments of labelled features about a shift K (see docs/ncstate.md).

    Attributes (NumPy float64 arrays): shift (dim, or None before the first batch), counts (classes),
    sums (classes×dim, Σ(x−K) per class), sq_norms (classes, Σ‖x−K‖² per class), scatter (dim×dim,
    Σ(x−K)(x−K)ᵀ over all samples), ood_count (a float), ood_sums (dim, Σx over OOD samples, not shifted).
    """

    def __init__(self, dim, classes):
        self.dim = _size(dim, "dim", 1, MAX_DIM)
        self.classes = _size(classes, "classes", 2, MAX_CLASSES)
        self.shift = None
        self.counts = np.zeros(self.classes)
        self.sums = np.zeros((self.classes, self.dim))
        self.sq_norms = np.zeros(self.classes)
        self.scatter = np.zeros((self.dim, self.dim))
        self.ood_count = 0.0
        self.ood_sums = np.zeros(self.dim)

    # ---- accumulating ---------------------------------------------------------------------------

    def add(self, x, y):
        """Adds one batch: x N×dim features, y N integer labels in [0, classes). Classes may be missing."""
        x = _features(x, self.dim, "features")
        y = np.asarray(y)
        if y.ndim != 1 or y.shape[0] != x.shape[0]:
            _fail("labels", f"{x.shape[0]} labels (one per row), 1-D", f"shape {list(y.shape)}")
        if x.shape[0] == 0:
            _fail("features", "at least one row", "0 rows")
        if not np.issubdtype(y.dtype, np.integer):
            _fail("labels", "integers", f"dtype {y.dtype}")
        if y.min() < 0 or y.max() >= self.classes:
            bad = y[(y < 0) | (y >= self.classes)][0]
            _fail("labels", f"classes in [0, {self.classes})", str(bad))
        y = y.astype(np.intp)
        # Everything into temporaries first: a refused batch above leaves the state as it was.
        shift = x.mean(axis=0) if self.shift is None else self.shift
        xc = x - shift
        counts = np.bincount(y, minlength=self.classes).astype(np.float64)
        sq_norms = np.bincount(y, weights=np.einsum("ij,ij->i", xc, xc), minlength=self.classes)
        sums = np.zeros((self.classes, self.dim))
        order = np.argsort(y, kind="stable")
        present = np.flatnonzero(counts)
        starts = np.searchsorted(y[order], present)
        sums[present] = np.add.reduceat(xc[order], starts, axis=0)
        self.shift = shift
        self.counts += counts
        self.sums += sums
        self.sq_norms += sq_norms
        self.scatter += xc.T @ xc

    def add_ood(self, x):
        """Adds OOD features (M×dim), for NC5. They need no labels and are not shifted."""
        x = _features(x, self.dim, "oodFeatures")
        if x.shape[0] == 0:
            _fail("oodFeatures", "at least one row", "0 rows")
        self.ood_count += x.shape[0]
        self.ood_sums += x.sum(axis=0)

    def merge(self, other):
        """Adds another state's statistics to this one, exactly (the shift algebra of docs/ncstate.md)."""
        if not isinstance(other, NcState):
            _fail("merge", "an NcState", type(other).__name__)
        if other is self:
            _fail("merge", "another state", "the state itself")
        if (other.dim, other.classes) != (self.dim, self.classes):
            _fail("merge", f"a state with dim {self.dim} and {self.classes} classes", f"dim {other.dim} and {other.classes} classes")
        self.ood_count += other.ood_count
        self.ood_sums = self.ood_sums + other.ood_sums
        if other.shift is None:
            return
        if self.shift is None:
            self.shift = other.shift.copy()
        # x − K₁ = (x − K₂) + Δ with Δ = K₂ − K₁: re-express the other state's moments about this shift.
        delta = other.shift - self.shift
        pooled = other.sums.sum(axis=0)
        n = other.counts.sum()
        self.sq_norms = self.sq_norms + other.sq_norms + 2 * (other.sums @ delta) + other.counts * (delta @ delta)
        self.sums = self.sums + other.sums + np.outer(other.counts, delta)
        self.counts = self.counts + other.counts
        self.scatter = self.scatter + other.scatter + np.outer(delta, pooled) + np.outer(pooled, delta) + n * np.outer(delta, delta)

    # ---- the file -------------------------------------------------------------------------------

    def _tensors(self):
        shift = np.zeros(0) if self.shift is None else self.shift
        # Insertion order is the file order ncod writes; the checksum does not depend on it.
        return {
            "shift": shift,
            "counts": self.counts,
            "sums": self.sums,
            "sqNorms": self.sq_norms,
            "scatter": self.scatter,
            "oodSums": self.ood_sums,
            "oodCount": np.array([self.ood_count]),
        }

    def save(self, path):
        """Writes the state file atomically (temp file in the same folder, fsync, rename)."""
        tensors = {k: np.ascontiguousarray(v, dtype="<f8") for k, v in self._tensors().items()}
        metadata = {"format": FORMAT, "version": str(VERSION), "dim": str(self.dim), "classes": str(self.classes), "writer": WRITER}
        metadata["sha256"] = canonical_digest(metadata, tensors)
        header = {"__metadata__": metadata}
        offset = 0
        for name, a in tensors.items():
            header[name] = {"dtype": "F64", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
            offset += a.nbytes
        text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
        text += b" " * (-len(text) % 8)  # the data buffer starts 8-aligned, like ncod's files
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
        try:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # mkstemp's 0600 would make the state unreadable to other users
            with os.fdopen(fd, "wb") as f:
                f.write(struct.pack("<Q", len(text)))
                f.write(text)
                for a in tensors.values():
                    f.write(a.tobytes())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path):
        """Reads and verifies a state file (version 1 or 2); a damaged one raises NcStateError."""
        with open(path, "rb") as f:
            data = f.read()
        return cls.from_bytes(data, f"NC state {path}")

    @classmethod
    def from_bytes(cls, data, what="NC state"):
        def bad(expected, got):
            _fail(what, expected, got)

        metadata, tensors = _parse_safetensors(data, bad)
        if metadata.get("format") != FORMAT:
            bad(f"an NC state (format {FORMAT})", f"format {metadata.get('format')}")
        version = metadata.get("version")
        if version not in [str(v) for v in range(OLDEST_READABLE, VERSION + 1)]:
            bad(f"version {OLDEST_READABLE} to {VERSION}", json.dumps(version))
        if int(version) >= 2:
            digest = canonical_digest(metadata, tensors)
            if metadata.get("sha256") != digest:
                bad(f"contents matching the recorded SHA-256 {metadata.get('sha256')}", f"contents with SHA-256 {digest}: the file is damaged or was edited")
        sizes = {}
        for key, lo, hi in (("dim", 1, MAX_DIM), ("classes", 2, MAX_CLASSES)):
            v = metadata.get(key)
            if not isinstance(v, str) or not v.isdigit() or str(int(v)) != v or not lo <= int(v) <= hi:
                bad(f"metadata {key} as an integer in [{lo}, {hi}]", json.dumps(v))
            sizes[key] = int(v)
        d, c = sizes["dim"], sizes["classes"]
        empty_shift = "shift" in tensors and tensors["shift"].shape == (0,)
        shapes = {
            "shift": (0,) if empty_shift else (d,),
            "counts": (c,),
            "sums": (c, d),
            "sqNorms": (c,),
            "scatter": (d, d),
            "oodSums": (d,),
            "oodCount": (1,),
        }
        if sorted(tensors) != sorted(shapes):
            bad(f"the tensors {', '.join(sorted(shapes))}", ", ".join(sorted(tensors)) or "none")
        for name, shape in shapes.items():
            a = tensors[name]
            if a.shape != shape:
                bad(f"tensor {name} of shape {list(shape)} (dim {d}, classes {c})", str(list(a.shape)))
            if not np.isfinite(a).all():
                k = int(np.flatnonzero(~np.isfinite(a.ravel()))[0])
                bad(f"finite values in {name}", f"{a.ravel()[k]} at {name}[{k}]")
        for name in ("counts", "oodCount"):
            a = tensors[name]
            if ((a < 0) | (a != np.floor(a))).any():
                bad(f"whole non-negative numbers in {name}", str(a[(a < 0) | (a != np.floor(a))][0]))
        if empty_shift and tensors["counts"].any():
            bad("a shift tensor of dim values when counts are non-zero", "an empty shift")
        state = cls(d, c)
        state.shift = None if empty_shift else tensors["shift"].astype(np.float64)
        state.counts = tensors["counts"].astype(np.float64)
        state.sums = tensors["sums"].astype(np.float64)
        state.sq_norms = tensors["sqNorms"].astype(np.float64)
        state.scatter = tensors["scatter"].astype(np.float64)
        state.ood_count = float(tensors["oodCount"][0])
        state.ood_sums = tensors["oodSums"].astype(np.float64)
        return state


def canonical_digest(metadata, tensors):
    """The state file's SHA-256 (docs/ncstate.md; ncod's lib/data/integrity.ts): the signed metadata values as one
    JSON line, then per tensor in name order a JSON line [name, "float64", shape, byteLength] and its bytes."""
    h = hashlib.sha256()
    line = lambda value: (json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")
    h.update(line([metadata.get(k) for k in SIGNED_METADATA]))
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name], dtype="<f8")
        h.update(line([name, "float64", list(a.shape), a.nbytes]))
        h.update(a.tobytes())
    return h.hexdigest()


def _parse_safetensors(data, bad):
    """(metadata, {name: float64 array}) of a safetensors file whose tensors tile the data buffer exactly."""
    if len(data) < 8:
        bad("an 8-byte header length", f"{len(data)} bytes")
    (n,) = struct.unpack("<Q", data[:8])
    if n > MAX_HEADER_BYTES or 8 + n > len(data):
        bad(f"a header of at most {min(MAX_HEADER_BYTES, len(data) - 8)} bytes", f"{n}")
    try:
        header = json.loads(data[8 : 8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        bad("a well-formed UTF-8 JSON header", str(e))
    if not isinstance(header, dict):
        bad("a JSON object header", type(header).__name__)
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        bad("__metadata__ as an object of strings", json.dumps(metadata)[:80])
    buffer = memoryview(data)[8 + n :]
    tensors, spans = {}, []
    for name, entry in header.items():
        if not isinstance(entry, dict) or entry.get("dtype") != "F64":
            bad(f"tensor {name} as F64", json.dumps(entry.get("dtype") if isinstance(entry, dict) else entry))
        shape, offsets = entry.get("shape"), entry.get("data_offsets")
        ok = lambda v: isinstance(v, list) and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0 for i in v)
        if not ok(shape) or not ok(offsets) or len(offsets) != 2 or offsets[1] - offsets[0] != 8 * int(np.prod(shape, dtype=np.int64)):
            bad(f"tensor {name} with a shape and data_offsets of 8 bytes per element", json.dumps(entry))
        spans.append((offsets[0], offsets[1], name))
    position = 0
    for begin, end, name in sorted(spans):
        if begin != position:
            bad(f"tensor {name} starting at byte {position}", f"{begin}")
        position = end
    if position != len(buffer):
        bad(f"a data buffer of {position} bytes", f"{len(buffer)} ({'truncated' if len(buffer) < position else 'trailing data'})")
    for begin, end, name in spans:
        tensors[name] = np.frombuffer(buffer[begin:end], dtype="<f8").reshape(header[name]["shape"]).astype(np.float64)
    return metadata, tensors


def _main(argv):
    usage = "usage: ncstate.py check FILE... | ncstate.py merge OUT FILE..."
    if len(argv) < 2 or argv[0] not in ("check", "merge") or (argv[0] == "merge" and len(argv) < 3):
        print(usage, file=sys.stderr)
        return 2
    try:
        if argv[0] == "check":
            for path in argv[1:]:
                s = NcState.load(path)
                print(json.dumps({"file": path, "dim": s.dim, "classes": s.classes, "n": int(s.counts.sum()), "ood": int(s.ood_count)}))
        else:
            states = [NcState.load(p) for p in argv[2:]]
            merged = NcState(states[0].dim, states[0].classes)
            for path, s in zip(argv[2:], states):
                if (s.dim, s.classes) != (merged.dim, merged.classes):
                    _fail(path, f"dim {merged.dim} and {merged.classes} classes like {argv[2]}", f"dim {s.dim} and {s.classes} classes")
                merged.merge(s)
            merged.save(argv[1])
    except (NcStateError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
