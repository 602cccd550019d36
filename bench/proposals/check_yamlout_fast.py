"""Differential check and timing of yamlout_fast against compiler.yamlout.

    .venv/bin/python bench/proposals/check_yamlout_fast.py SPEC...

Renders every target that imports for each spec, capturing every document handed to
`yamlout.dump`/`dump_all`, then dumps each with both dumpers: the bytes must be identical.
Adds hostile strings (YAML keywords, numbers, indicators, unicode, multi-line) as a fuzz set.
"""

from __future__ import annotations

import gc
import random
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent.parent), str(HERE)]

import yamlout_fast  # noqa: E402

from compiler import yamlout  # noqa: E402
from compiler.pipeline import check  # noqa: E402

HOSTILE = ["", " ", "yes", "No", "on", "OFF", "true", "~", "null", "NULL", "1", "0x1F", "0o17", "1_000", "1.5", ".inf",
           "-.NaN", "1e3", "12:30", "2024-01-01", "2024-01-01T10:00:00Z", "<<", "=", "-", "- a", "? x", ": y", "a: b",
           "a #b", "#c", "@x", "`x", "'q'", '"d"', "%p", "!t", "&a", "*b", "|", ">", "[a]", "{a: 1}", "a,b", "x\ty",
           " lead", "trail ", "multi\nline", "multi\nline\n", "multi\nline\n\n", "\nleading", "  indented\nblock",
           "tab\tand\nline", "trailing space \nline", "é ü 中文", "\u2028sep", "\x85nel", "\ufeffbom", "ctrl\x01",
           "---", "...", "--- doc", "... end", "a" * 200, "k" * 130]


def capture(specs: list[str]) -> list[tuple[str, Any]]:
    from targets import TARGETS, load_target

    calls: list[tuple[str, Any]] = []
    real_dump, real_all = yamlout.dump, yamlout.dump_all

    def spy_dump(data: Any, spec_file: str | None = None) -> str:
        calls.append(("dump", data))
        return real_dump(data, spec_file)

    def spy_all(docs: Any, spec_file: str | None = None) -> str:
        docs = list(docs)
        calls.append(("all", docs))
        return real_all(docs, spec_file)

    for name in TARGETS:
        try:
            module = load_target(name)
        except Exception as err:  # a target still being written
            print(f"skip {name}: {type(err).__name__}")
            continue
        for mod in list(sys.modules.values()):
            if getattr(mod, "__name__", "").startswith(f"targets.{name}"):
                if getattr(mod, "dump", None) is real_dump:
                    mod.dump = spy_dump  # type: ignore[attr-defined]
                if getattr(mod, "dump_all", None) is real_all:
                    mod.dump_all = spy_all  # type: ignore[attr-defined]
        for spec in specs:
            result = check(Path(spec))
            assert result.platform is not None, spec
            module.render(result.platform)
    return calls


ALPHABET = "abcXYZ019 _-./:#,'\"?[]{}&*!|>%@`~=<\t\n\u00e9\u4e2d\u2028\x85\x7f\ufeff"


def random_doc(rng: random.Random, depth: int = 0) -> Any:
    """Random nested plain data with nasty strings, for the differential check."""
    def text() -> str:
        if rng.random() < 0.3:
            return rng.choice(HOSTILE)
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 12)))

    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice([text(), text(), rng.randint(-5, 10**6), True, False, None])
    if roll < 0.7:
        return {text(): random_doc(rng, depth + 1) for _ in range(rng.randint(0, 5))}
    return [random_doc(rng, depth + 1) for _ in range(rng.randint(0, 5))]


def main() -> int:
    calls = capture(sys.argv[1:])
    rng = random.Random(8)
    randoms: list[tuple[str, Any]] = [("dump", {"root": random_doc(rng)}) for _ in range(20000)]
    fuzz: list[tuple[str, Any]] = [("dump", {s: s for s in HOSTILE if len(s) < 128}),
                                   ("dump", [HOSTILE, {"k": HOSTILE}, [[s] for s in HOSTILE]]),
                                   ("dump", {"a": {}, "b": [], "c": [{}], "d": [[]], "e": None, "f": 1.5, "g": -3,
                                             "h": True, "i": [{"x": "y\nz", "w": ["1"]}], "k" * 130: "long key"})]
    bad = 0
    for kind, data in calls + fuzz + randoms:
        old = yamlout.dump(data, "s.yaml") if kind == "dump" else yamlout.dump_all(data, "s.yaml")
        new = yamlout_fast.dump(data, "s.yaml") if kind == "dump" else yamlout_fast.dump_all(data, "s.yaml")
        if old != new:
            bad += 1
            if bad <= 3:
                print("DIFFERENT:\n--- old\n" + old[:600] + "\n--- new\n" + new[:600])
    gc.disable()
    timings = {}
    for label, mod in (("compiler.yamlout", yamlout), ("yamlout_fast", yamlout_fast)):
        yamlout_fast._SCALARS.clear()  # time it cold, as in one `gpc compile`
        yamlout_fast._KEYS.clear()
        start = time.perf_counter()
        for kind, data in calls:
            mod.dump(data, "s.yaml") if kind == "dump" else mod.dump_all(data, "s.yaml")
        timings[label] = time.perf_counter() - start
    print(f"{len(calls)} documents from the targets + {len(fuzz)} fuzz + {len(randoms)} random documents: "
          f"{bad} differ")
    for label, seconds in timings.items():
        print(f"  {label:<18} {seconds:.3f} s  ({seconds / max(len(calls), 1) * 1e6:.0f} us per call)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
