from django.apps import AppConfig


class BenchConfig(AppConfig):
    """No models: the app exists so that `generate_book` and `run_bench` are management commands."""

    name = "bench"
    verbose_name = "Benchmarks"
