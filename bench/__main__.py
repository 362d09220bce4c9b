"""Run the benchmarks and print a Markdown table (copied into docs/benchmarks.md).

`python -m bench` runs every `bench/*_bench.py` module's `run()`; `python -m bench surveys
openrosa` runs only those named. Each `run()` returns rows measured beside a baseline.
"""

from __future__ import annotations

import importlib
import os
import sys
import tempfile
from pathlib import Path


def _modules(names: list[str]) -> list[str]:
    available = sorted(path.stem for path in Path(__file__).parent.glob("*_bench.py"))
    if not names:
        return available
    chosen = [f"{name.removesuffix('_bench')}_bench" for name in names]
    unknown = [name for name in chosen if name not in available]
    if unknown:
        raise SystemExit(f"bench: no benchmark named {', '.join(unknown)}")
    return chosen


def main(argv: list[str]) -> int:
    modules = _modules(argv)
    data_dir = tempfile.mkdtemp(prefix="incity-bench-")
    os.environ.setdefault("INCITY_SECRET_KEY", "bench-" + "k" * 40)
    os.environ["INCITY_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "incity.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    rows = []
    for name in modules:
        rows += importlib.import_module(f"bench.{name}").run()
    print("| benchmark | incity | baseline | ratio (baseline / incity) |")
    print("|---|---|---|---|")
    for row in rows:
        print(
            f"| {row.name} | {row.incity_ms:.1f} ms | {row.baseline_ms:.1f} ms | {row.ratio:.1f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
