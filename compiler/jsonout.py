"""`json.dumps(data, indent=..., sort_keys=...)`, byte for byte, at C-encoder speed for plain data.

Python 3.11's json module encodes with its pure-Python encoder whenever `indent` is set: ~1 ms per
Grafana dashboard, 3,000 dashboards at N=1000 (bench/README.md). gpc's documents are plain data
(dicts with string keys, lists, strings, ints, bools, None, finite floats): this lays them out
with the C string encoder and falls back to `json.dumps` for anything else. tests/test_jsonout.py
checks it against json.dumps on every document the targets write and on random data.
"""

from __future__ import annotations

import json
import math
from json.encoder import encode_basestring, encode_basestring_ascii
from typing import Any


class _Fallback(Exception):
    pass


def dumps(data: Any, indent: int, *, sort_keys: bool = False, ensure_ascii: bool = True) -> str:
    """What `json.dumps(data, indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii)` returns."""
    string = encode_basestring_ascii if ensure_ascii else encode_basestring
    step = " " * indent

    def value(v: Any, pad: str) -> str:
        t = type(v)
        if t is str:
            return str(string(v))
        if t is dict:
            if not v:
                return "{}"
            inner = pad + step
            items = sorted(v.items()) if sort_keys else v.items()
            parts = []
            for k, item in items:
                if type(k) is not str:
                    raise _Fallback  # json converts other keys (and sorting mixed keys fails): its business
                parts.append(f"{inner}{string(k)}: {value(item, inner)}")
            return "{\n" + ",\n".join(parts) + "\n" + pad + "}"
        if t is list or t is tuple:
            if not v:
                return "[]"
            inner = pad + step
            return "[\n" + ",\n".join(inner + value(item, inner) for item in v) + "\n" + pad + "]"
        if v is True:
            return "true"
        if v is False:
            return "false"
        if v is None:
            return "null"
        if t is int:
            return int.__repr__(v)
        if t is float and math.isfinite(v):
            return float.__repr__(v)
        raise _Fallback

    try:
        return value(data, "")
    except _Fallback:
        return json.dumps(data, indent=indent, sort_keys=sort_keys, ensure_ascii=ensure_ascii)
