"""The email digests' content (the platform's csplatform.notifications.digests decides when and to whom, and
imports this module at start-up to find them)."""

from csplatform.notifications.digests import MONDAY, Digest, register_digest
from csplatform.tenancy.models import Role

from .daily import build_daily
from .weekly import build_weekly

# Managers often carry a book of their own, so they get the daily one too; an empty digest is never sent.
register_digest(
    Digest(
        kind="daily",
        label="Daily digest",
        preference="daily_digest",
        weekday=None,
        build=build_daily,
        roles=frozenset({Role.CSM, Role.MANAGER}),
        description="At 07:00 your time: your tasks due today, your overdue tasks and today's business reviews. "
        "Not sent on a day with nothing in it.",
    )
)
# Managers see their team; admins, who often run customer success in a small company, the whole book. Ops and
# executives have their own home pages (jobs and data quality, the headline numbers) and get no digest.
register_digest(
    Digest(
        kind="weekly",
        label="Weekly digest",
        preference="weekly_digest",
        weekday=MONDAY,
        build=build_weekly,
        roles=frozenset({Role.MANAGER, Role.ADMIN}),
        description="Mondays at 07:00 your time: at-risk accounts, the forecast's movement over the week and overdue "
        "tasks per CSM, for your team (admins: the whole book).",
    )
)
