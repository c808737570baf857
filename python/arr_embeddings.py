#!/usr/bin/env python3
"""Read the embeddings that `arr preprocess` writes, from Python (>= 3.9, standard library only).

An embeddings folder holds a ``metadata.json`` (a JSON list, one object per item, as the reference
trainers expect) and tensor files that the entries name: ``.safetensors`` and/or torch ``.pt`` files.
A string field whose value ends in ``.pt`` or ``.safetensors`` names a tensor file; it resolves like the
reference's ``LatentDataset`` does, ``<metadata dir>/<field without _path>/<value>`` (so
``"prompt_embed_path": "0.pt"`` is ``prompt_embed/0.pt``), falling back to ``<metadata dir>/<value>``
(so ``"prompt_embed": "prompt_embed/0.safetensors"`` works too). Every other field is a scalar field.

When torch is importable, tensors come back as ``torch.Tensor``; otherwise as ``HostTensor`` (dtype,
shape, raw little-endian bytes, values decoded into an ``array.array``). ``.pt`` files are read without
torch too, by a restricted unpickler that only accepts what ``torch.save`` writes for one tensor.

    from arr_embeddings import load_metadata, load_entry, read_safetensors
    entry = load_entry("out/metadata.json", 0)
    entry["tensors"]["prompt_embed"].shape, entry["fields"]["caption"]

Run ``python3 arr_embeddings.py out/metadata.json`` for a summary (``--index N`` to show another
entry, ``--dump FILE`` to print one tensor file as JSON).
"""
from __future__ import annotations

import array
import json
import math
import os
import pickle
import struct
import sys
import zipfile
from typing import Any, Dict, List, Optional, Tuple

__all__ = [
    "DTYPE_SIZE",
    "HostTensor",
    "load_metadata",
    "read_safetensors",
    "read_safetensors_metadata",
    "read_torch_pt",
    "load_tensor_file",
    "load_entry",
    "torch_available",
    "summarize",
]

DTYPE_SIZE = {"F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U8": 1, "BOOL": 1}
TENSOR_SUFFIXES = (".safetensors", ".pt")
_MAX_HEADER = 100_000_000
_LITTLE = sys.byteorder == "little"

# array.array type codes with the right item sizes on this platform.
_INT32_CODE = "i" if array.array("i").itemsize == 4 else "l"
_INT64_CODE = "q"

_TORCH: Any = None
_TORCH_CHECKED = False


def torch_available() -> bool:
    """Whether ``import torch`` works (tried once)."""
    global _TORCH, _TORCH_CHECKED
    if not _TORCH_CHECKED:
        _TORCH_CHECKED = True
        try:
            import torch  # noqa: F401

            _TORCH = torch
        except Exception:  # ImportError, or a broken install
            _TORCH = None
    return _TORCH is not None


def _numel(shape: Tuple[int, ...]) -> int:
    n = 1
    for d in shape:
        n *= d
    return n


class HostTensor:
    """A tensor without torch: ``dtype`` (safetensors name), ``shape`` (tuple), ``raw`` (little-endian bytes)."""

    __slots__ = ("dtype", "shape", "raw", "_values")

    def __init__(self, dtype: str, shape: Tuple[int, ...], raw: bytes) -> None:
        if dtype not in DTYPE_SIZE:
            raise ValueError("unsupported dtype %r" % (dtype,))
        shape = tuple(int(d) for d in shape)
        if len(raw) != _numel(shape) * DTYPE_SIZE[dtype]:
            raise ValueError("%s %s needs %d bytes, got %d" % (dtype, list(shape), _numel(shape) * DTYPE_SIZE[dtype], len(raw)))
        self.dtype = dtype
        self.shape = shape
        self.raw = bytes(raw)
        self._values: Optional[array.array] = None

    @property
    def numel(self) -> int:
        return _numel(self.shape)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d tensor")
        return self.shape[0]

    @property
    def values(self) -> array.array:
        """Flat values: floats ('f') for F32/F16/BF16, 'q' for I64, 32-bit ints for I32, 'B' for U8/BOOL."""
        if self._values is None:
            self._values = _decode(self.dtype, self.raw)
        return self._values

    def memoryview(self) -> memoryview:
        """A flat memoryview of the decoded values."""
        return memoryview(self.values)

    def tolist(self) -> Any:
        """Nested Python lists shaped like the tensor (a bare number for 0-d); BOOL gives bools."""
        flat: List[Any] = list(self.values)
        if self.dtype == "BOOL":
            flat = [bool(v) for v in flat]
        if not self.shape:
            return flat[0]
        return _nest(flat, self.shape)

    def to_torch(self) -> Any:
        if not torch_available():
            raise RuntimeError("torch is not importable")
        return _bytes_to_torch(self.dtype, self.shape, self.raw)

    def __repr__(self) -> str:
        return "HostTensor(dtype=%s, shape=%s)" % (self.dtype, list(self.shape))


def _nest(flat: List[Any], shape: Tuple[int, ...]) -> Any:
    if len(shape) == 1:
        return flat
    step = _numel(shape[1:])
    return [_nest(flat[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def _decode(dtype: str, raw: bytes) -> array.array:
    if dtype == "F32":
        out = array.array("f")
        out.frombytes(raw)
    elif dtype == "F16":
        out = array.array("f", struct.unpack("<%de" % (len(raw) // 2), raw))
        return out
    elif dtype == "BF16":
        # bfloat16 is the top half of a float32: interleave two zero bytes below each value.
        wide = bytearray(len(raw) * 2)
        wide[2::4] = raw[0::2]
        wide[3::4] = raw[1::2]
        out = array.array("f")
        out.frombytes(bytes(wide))
    elif dtype == "I64":
        out = array.array(_INT64_CODE)
        out.frombytes(raw)
    elif dtype == "I32":
        out = array.array(_INT32_CODE)
        out.frombytes(raw)
    elif dtype in ("U8", "BOOL"):
        return array.array("B", raw)
    else:
        raise ValueError("unsupported dtype %r" % (dtype,))
    if not _LITTLE:
        out.byteswap()
    return out


_TORCH_DTYPE_NAME = {"F32": "float32", "F16": "float16", "BF16": "bfloat16", "I64": "int64", "I32": "int32", "U8": "uint8", "BOOL": "bool"}


def _bytes_to_torch(dtype: str, shape: Tuple[int, ...], raw: bytes) -> Any:
    torch = _TORCH
    tdtype = getattr(torch, _TORCH_DTYPE_NAME[dtype])
    if len(raw) == 0:
        return torch.empty(shape, dtype=tdtype)
    # torch.frombuffer reads native byte order; the files hold little-endian bytes.
    t = torch.frombuffer(bytearray(raw if _LITTLE else _swap(dtype, raw)), dtype=tdtype)
    return t.reshape(shape)


def _swap(dtype: str, raw: bytes) -> bytes:
    size = DTYPE_SIZE[dtype]
    if size == 1:
        return raw
    b = bytearray(raw)
    for i in range(size // 2):
        b[i::size], b[size - 1 - i :: size] = raw[size - 1 - i :: size], raw[i::size]
    return bytes(b)


# --------------------------------------------------------------------------------------------------
# metadata.json


def load_metadata(path: str) -> List[Dict[str, Any]]:
    """The entries of a metadata.json (a JSON list of objects)."""
    with open(path, "r", encoding="utf-8") as f:
        data = json.load(f)
    if not isinstance(data, list) or not all(isinstance(e, dict) for e in data):
        raise ValueError("%s: expected a JSON list of objects" % path)
    return data


# --------------------------------------------------------------------------------------------------
# safetensors


def _read_safetensors_header(f: Any, path: str) -> Tuple[Dict[str, Any], int, int]:
    f.seek(0, os.SEEK_END)
    size = f.tell()
    f.seek(0)
    prefix = f.read(8)
    if len(prefix) != 8:
        raise ValueError("%s: too short for a safetensors header" % path)
    (n,) = struct.unpack("<Q", prefix)
    if n > min(_MAX_HEADER, size - 8):
        raise ValueError("%s: header length %d exceeds the file (%d bytes)" % (path, n, size))
    try:
        header = json.loads(f.read(n).decode("utf-8"))
    except ValueError as e:
        raise ValueError("%s: header is not JSON: %s" % (path, e))
    if not isinstance(header, dict):
        raise ValueError("%s: header is not a JSON object" % path)
    return header, 8 + n, size - 8 - n


def read_safetensors_metadata(path: str) -> Dict[str, str]:
    """The file's ``__metadata__`` (empty when it has none)."""
    with open(path, "rb") as f:
        header, _, _ = _read_safetensors_header(f, path)
    meta = header.get("__metadata__") or {}
    if not isinstance(meta, dict) or not all(isinstance(v, str) for v in meta.values()):
        raise ValueError("%s: __metadata__ must map strings to strings" % path)
    return dict(meta)


def read_safetensors(path: str) -> Dict[str, Tuple[str, Tuple[int, ...], bytes]]:
    """``{name: (dtype, shape, raw little-endian bytes)}``, in header order, after checking every offset."""
    with open(path, "rb") as f:
        header, data_start, data_len = _read_safetensors_header(f, path)
        spans = []
        entries = []
        for name, e in header.items():
            if name == "__metadata__":
                continue
            if not isinstance(e, dict):
                raise ValueError("%s: entry %s is not an object" % (path, name))
            dtype, shape, offs = e.get("dtype"), e.get("shape"), e.get("data_offsets")
            if dtype not in DTYPE_SIZE:
                raise ValueError("%s: %s has unsupported dtype %r" % (path, name, dtype))
            if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
                raise ValueError("%s: %s has an invalid shape %r" % (path, name, shape))
            if (
                not isinstance(offs, list)
                or len(offs) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) and o >= 0 for o in offs)
                or offs[0] > offs[1]
            ):
                raise ValueError("%s: %s has invalid data_offsets %r" % (path, name, offs))
            if offs[1] > data_len:
                raise ValueError("%s: %s ends at %d, past the data (%d bytes)" % (path, name, offs[1], data_len))
            need = _numel(tuple(shape)) * DTYPE_SIZE[dtype]
            if offs[1] - offs[0] != need:
                raise ValueError("%s: %s spans %d bytes, %s %s needs %d" % (path, name, offs[1] - offs[0], dtype, shape, need))
            spans.append((offs[0], offs[1], name))
            entries.append((name, dtype, tuple(shape), offs))
        cursor = 0
        for begin, end, name in sorted(spans):
            if begin != cursor:
                raise ValueError("%s: %s starts at %d, expected %d" % (path, name, begin, cursor))
            cursor = end
        if cursor != data_len:
            raise ValueError("%s: tensors cover %d bytes, the data has %d" % (path, cursor, data_len))
        out: Dict[str, Tuple[str, Tuple[int, ...], bytes]] = {}
        for name, dtype, shape, offs in entries:
            f.seek(data_start + offs[0])
            out[name] = (dtype, shape, f.read(offs[1] - offs[0]))
        return out


# --------------------------------------------------------------------------------------------------
# torch .pt (zip format) without torch

_STORAGE_DTYPE = {
    "FloatStorage": "F32",
    "HalfStorage": "F16",
    "BFloat16Storage": "BF16",
    "LongStorage": "I64",
    "IntStorage": "I32",
    "ByteStorage": "U8",
    "BoolStorage": "BOOL",
}


class _StorageType:
    def __init__(self, dtype: str) -> None:
        self.dtype = dtype


class _Storage:
    def __init__(self, dtype: str, raw: bytes) -> None:
        self.dtype = dtype
        self.raw = raw


def _rebuild_tensor_v2(storage: _Storage, offset: int, size: Tuple[int, ...], stride: Tuple[int, ...], *_rest: Any) -> HostTensor:
    shape = tuple(size)
    n = _numel(shape)
    item = DTYPE_SIZE[storage.dtype]
    expected, s = [], 1
    for d in reversed(shape):
        expected.append(s)
        s *= max(d, 1)
    expected.reverse()
    if n > 1 and any(st != ex for st, ex, d in zip(stride, expected, shape) if d != 1):
        raise ValueError("non-contiguous tensor (stride %s for shape %s) is not supported without torch" % (list(stride), list(shape)))
    start = offset * item
    raw = storage.raw[start : start + n * item]
    if len(raw) != n * item:
        raise ValueError("storage too small for offset %d and shape %s" % (offset, list(shape)))
    return HostTensor(storage.dtype, shape, raw)


class _TensorUnpickler(pickle.Unpickler):
    """Accepts only what torch.save writes for a single tensor."""

    def __init__(self, f: Any, zf: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(f)
        self._zf = zf
        self._prefix = prefix

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild_tensor_v2
        if (module, name) == ("collections", "OrderedDict"):
            import collections

            return collections.OrderedDict
        if module == "torch" and name in _STORAGE_DTYPE:
            return _StorageType(_STORAGE_DTYPE[name])
        raise pickle.UnpicklingError("unsupported global %s.%s in a tensor file" % (module, name))

    def persistent_load(self, pid: Any) -> Any:
        if not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage" or not isinstance(pid[1], _StorageType):
            raise pickle.UnpicklingError("unsupported persistent id %r" % (pid,))
        key = pid[2]
        raw = self._zf.read("%sdata/%s" % (self._prefix, key))
        return _Storage(pid[1].dtype, raw)


def read_torch_pt(path: str) -> Tuple[str, Tuple[int, ...], bytes]:
    """``(dtype, shape, raw bytes)`` of a .pt file holding one tensor, without torch."""
    with zipfile.ZipFile(path) as zf:
        pkl = [n for n in zf.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if len(pkl) != 1:
            raise ValueError("%s: not a torch zip file with one data.pkl" % path)
        prefix = pkl[0][: -len("data.pkl")]
        import io

        obj = _TensorUnpickler(io.BytesIO(zf.read(pkl[0])), zf, prefix).load()
    if not isinstance(obj, HostTensor):
        raise ValueError("%s: holds %s, not a single tensor" % (path, type(obj).__name__))
    return obj.dtype, obj.shape, obj.raw


# --------------------------------------------------------------------------------------------------
# entries


def _want_torch(as_torch: Optional[bool]) -> bool:
    if as_torch is None:
        return torch_available()
    if as_torch and not torch_available():
        raise RuntimeError("as_torch=True but torch is not importable (Debian: apt-get install -y python3-torch)")
    return bool(as_torch)


def _torch_load(path: str) -> Any:
    torch = _TORCH
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except TypeError:  # torch < 1.13 has no weights_only
        return torch.load(path, map_location="cpu")


def load_tensor_file(path: str, as_torch: Optional[bool] = None) -> Dict[str, Any]:
    """All tensors of one file: ``{name: tensor}`` (a .pt file gives one tensor named ``""``)."""
    use_torch = _want_torch(as_torch)
    if path.endswith(".pt"):
        if use_torch:
            return {"": _torch_load(path)}
        dtype, shape, raw = read_torch_pt(path)
        return {"": HostTensor(dtype, shape, raw)}
    out: Dict[str, Any] = {}
    for name, (dtype, shape, raw) in read_safetensors(path).items():
        out[name] = _bytes_to_torch(dtype, shape, raw) if use_torch else HostTensor(dtype, shape, raw)
    return out


def _tensor_name(field: str) -> str:
    return field[: -len("_path")] if field.endswith("_path") else field


def _resolve(base: str, field: str, value: str) -> str:
    if os.path.isabs(value):
        return value
    tried = [os.path.join(base, _tensor_name(field), value), os.path.join(base, value)]
    for p in tried:
        if os.path.isfile(p):
            return p
    raise FileNotFoundError("%s = %r: none of %s exists" % (field, value, ", ".join(tried)))


def load_entry(metadata_path: str, index: int, as_torch: Optional[bool] = None) -> Dict[str, Any]:
    """Entry ``index`` of a metadata.json with its tensors loaded.

    Returns ``{"index", "tensors": {name: tensor}, "fields": {name: value}}``. A field naming a tensor
    file is loaded under the field's name without ``_path``; a .safetensors file with several tensors
    contributes each under its own name. ``as_torch``: None = torch.Tensor when torch is importable,
    True = require torch, False = HostTensor.
    """
    entries = load_metadata(metadata_path)
    if not -len(entries) <= index < len(entries):
        raise IndexError("%s has %d entries; no index %d" % (metadata_path, len(entries), index))
    entry = entries[index]
    base = os.path.dirname(os.path.abspath(metadata_path))
    tensors: Dict[str, Any] = {}
    fields: Dict[str, Any] = {}
    for field, value in entry.items():
        if isinstance(value, str) and value.endswith(TENSOR_SUFFIXES):
            loaded = load_tensor_file(_resolve(base, field, value), as_torch)
            if len(loaded) == 1:
                tensors[_tensor_name(field)] = next(iter(loaded.values()))
            else:
                tensors.update(loaded)
        else:
            fields[field] = value
    return {"index": index if index >= 0 else len(entries) + index, "tensors": tensors, "fields": fields}


# --------------------------------------------------------------------------------------------------
# command line


def _describe(t: Any) -> str:
    if isinstance(t, HostTensor):
        return "%s %s" % (t.dtype, list(t.shape))
    return "%s %s (torch)" % (str(t.dtype).replace("torch.", ""), list(t.shape))


def summarize(metadata_path: str, index: int = 0, as_torch: Optional[bool] = None) -> str:
    entries = load_metadata(metadata_path)
    lines = ["%s: %d entries" % (metadata_path, len(entries))]
    keys: Dict[str, int] = {}
    for e in entries:
        for k in e:
            keys[k] = keys.get(k, 0) + 1
    lines.append("fields: " + ", ".join("%s (%d)" % (k, n) for k, n in keys.items()))
    lines.append("torch: %s" % ("yes, " + _TORCH.__version__ if torch_available() else "no (HostTensor)"))
    if entries:
        entry = load_entry(metadata_path, index, as_torch)
        lines.append("entry %d:" % entry["index"])
        for name, t in entry["tensors"].items():
            lines.append("  %s: %s" % (name, _describe(t)))
        for name, v in entry["fields"].items():
            text = json.dumps(v, ensure_ascii=False)
            lines.append("  %s = %s" % (name, text if len(text) <= 120 else text[:117] + "..."))
    return "\n".join(lines)


def _json_number(v: Any) -> Any:
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v


def _dump(path: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for name, t in load_tensor_file(path, as_torch=False).items():
        vals = [_json_number(v) for v in t.values]
        if t.dtype == "BOOL":
            vals = [bool(v) for v in vals]
        out[name] = {"dtype": t.dtype, "shape": list(t.shape), "values": vals}
    return out


def main(argv: Optional[List[str]] = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="Summarize an ARR embeddings metadata.json, or dump a tensor file.")
    ap.add_argument("metadata", nargs="?", help="path to metadata.json")
    ap.add_argument("--index", type=int, default=0, help="entry to load and show (default 0)")
    ap.add_argument("--no-torch", action="store_true", help="use HostTensor even when torch is importable")
    ap.add_argument("--dump", metavar="FILE", help="print a .safetensors or .pt file as JSON (dtype, shape, flat values)")
    args = ap.parse_args(argv)
    if args.dump:
        print(json.dumps(_dump(args.dump)))
        return 0
    if not args.metadata:
        ap.error("give a metadata.json or --dump FILE")
    print(summarize(args.metadata, args.index, False if args.no_torch else None))
    return 0


if __name__ == "__main__":
    sys.exit(main())
