"""gguf_write.py -- a small GGUF v3 writer (SPEC 1.1), for F32 tensors and metadata.

Layout: magic "GGUF", u32 version 3, u64 tensor count, u64 key/value count,
the key/values, the tensor infos (name, n_dims, dims as u64 with ne[0] the
innermost, u32 type, u64 offset from the data section), zero padding to
the alignment (32), then each tensor's bytes, each padded to 32.  All
little-endian.

Values are typed explicitly, so the file says what the caller meant:
    w.add("bitnet-b1.58.block_count", U32, 4)
    w.add("tokenizer.ggml.tokens", ARRAY, (STRING, [...]))
"""
import struct

import numpy as np

U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
_SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?",
           U64: "<Q", I64: "<q", F64: "<d"}
GGML_F32 = 0
ALIGN = 32


def _str(s):
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def _value(t, v):
    if t == STRING:
        return _str(v)
    if t == ARRAY:
        et, items = v
        out = [struct.pack("<IQ", et, len(items))]
        out += [_value(et, x) for x in items]
        return b"".join(out)
    return struct.pack(_SCALAR[t], v)


class Writer:
    def __init__(self):
        self.kv = []        # (key, type, value)
        self.tensors = []   # (name, ne (innermost first), float32 bytes)

    def add(self, key, t, v):
        assert key not in (k for k, _, _ in self.kv), key
        self.kv.append((key, t, v))

    def add_tensor(self, name, array):
        """array: numpy, C order, shape (ne[n-1], ..., ne[0]); stored as F32."""
        a = np.ascontiguousarray(array, dtype="<f4")
        assert name not in (n for n, _, _ in self.tensors), name
        self.tensors.append((name, tuple(reversed(a.shape)), a.tobytes()))

    def write(self, path):
        head = [b"GGUF", struct.pack("<IQQ", 3, len(self.tensors), len(self.kv))]
        for k, t, v in self.kv:
            head += [_str(k), struct.pack("<I", t), _value(t, v)]
        off = 0
        for name, ne, data in self.tensors:
            head += [_str(name), struct.pack("<I", len(ne)), struct.pack("<%dQ" % len(ne), *ne),
                     struct.pack("<IQ", GGML_F32, off)]
            off += -(-len(data) // ALIGN) * ALIGN
        h = b"".join(head)
        with open(path, "wb") as f:
            f.write(h + b"\0" * (-len(h) % ALIGN))
            for _, _, data in self.tensors:
                f.write(data + b"\0" * (-len(data) % ALIGN))
