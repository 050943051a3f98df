"""The benchmarks, one module each. A module exposes `NAME`, `WHAT` and `run(ctx: BenchContext) -> dict` (built
with `bench.runner.result`); adding one is adding its module name here, in the order the runs happen."""

import importlib

MODULES = ["health_recompute", "usage_ingest_api", "forecast", "comp_statements", "health_restatement", "pages",
           "nightly_workers"]


def benchmarks() -> dict:
    """{name: module}, in run order."""
    loaded = [importlib.import_module(f"{__name__}.{module}") for module in MODULES]
    return {module.NAME: module for module in loaded}
