"""Pages show times in the signed-in user's time zone (User.time_zone); the API and jobs stay in UTC.

While a page request runs, Django's current time zone is the user's: templates render aware datetimes in it
(`|date`, `|time`, `{% now %}`), and forms read a typed date-time ("When" of an activity) in it, so what a user
types and what they then see agree.

Consequence, on purpose: `timezone.localdate()` inside a page request is the *user's* today. Pages use it for
"overdue", "due this week" and as the default date of what the user records (closed on, as of, held on), which is
the day where the user is. The tenant's business day (the day nightly jobs and snapshots are keyed by) is the
server's (settings.TIME_ZONE, UTC): code that schedules or looks up job output by day from a request must use
`business_day()`, not `timezone.localdate()` (docs/experience.md, "Design system", lists the call sites).
"""

import re
import zoneinfo
from datetime import date
from functools import lru_cache

from django.conf import settings
from django.utils import timezone

API_PATH = re.compile(r"^/api/")


@lru_cache(maxsize=512)
def zone_or_none(name: str):
    """The ZoneInfo named `name`, or None when it is empty or unknown (a typo must not break every page)."""
    if not name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def business_day() -> date:
    """Today in the server's zone (settings.TIME_ZONE), whatever zone the current request activated."""
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(settings.TIME_ZONE))


class UserTimeZoneMiddleware:
    """Activates the signed-in user's time zone for a page request and deactivates it afterwards.

    An unknown or empty zone falls back to UTC. API requests are left in UTC: machine clients get stable offsets.
    Placed after AuthenticationMiddleware (it reads request.user).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if API_PATH.match(request.path_info):
            return self.get_response(request)
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return self.get_response(request)
        timezone.activate(zone_or_none(getattr(user, "time_zone", "")) or zoneinfo.ZoneInfo("UTC"))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
