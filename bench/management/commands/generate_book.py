from datetime import date

from django.core.management.base import BaseCommand, CommandError

from bench.generator import FULL, SMALL, BookParams, book_generate


class Command(BaseCommand):
    help = ("Builds a synthetic book of business in bench tenants (bench-01..) on PostgreSQL, set-based; reuses it "
            "when the same parameters were generated before. Other tenants are never touched.")

    def add_arguments(self, parser):
        parser.add_argument("--tenants", type=int, help=f"Number of tenants (default {FULL['tenants']})")
        parser.add_argument("--accounts", type=int, help=f"Accounts in all (default {FULL['accounts']:,})")
        parser.add_argument("--days", type=int, help=f"Days of daily usage per account (default {FULL['days']})")
        parser.add_argument("--seed", type=int, default=1, help="Same seed, same book (default 1)")
        parser.add_argument("--small", action="store_true",
                            help=f"Quick size: {SMALL['tenants']} tenants, {SMALL['accounts']:,} accounts, "
                                 f"{SMALL['days']} days")
        parser.add_argument("--force", action="store_true", help="Rebuild even if the same book is there")
        parser.add_argument("--end", type=date.fromisoformat, help="Last day of usage (default: yesterday)")

    def handle(self, *args, **options):
        size = dict(SMALL if options["small"] else FULL)
        for name in size:
            if options[name] is not None:
                if options["small"]:
                    raise CommandError(f"--small sets --{name}; give one or the other.")
                size[name] = options[name]
        try:
            params = BookParams(seed=options["seed"], **size)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        try:
            book_generate(params=params, force=options["force"], end=options["end"], out=self.stdout.write)
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
