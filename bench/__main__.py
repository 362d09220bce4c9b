"""Run every benchmark and print a Markdown table (copied into docs/benchmarks.md)."""

from __future__ import annotations

import os
import sys
import tempfile


def main() -> int:
    data_dir = tempfile.mkdtemp(prefix="incity-bench-")
    os.environ.setdefault("INCITY_SECRET_KEY", "bench-" + "k" * 40)
    os.environ["INCITY_DATA_DIR"] = data_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "incity.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from bench import access_bench, surveys_bench

    rows = access_bench.run() + surveys_bench.run()
    print("| benchmark | incity | baseline | ratio (baseline / incity) |")
    print("|---|---|---|---|")
    for row in rows:
        print(
            f"| {row.name} | {row.incity_ms:.1f} ms | {row.baseline_ms:.1f} ms | {row.ratio:.1f}x |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
