"""Per-process memory of a backing service that just failed (the task broker, the shared cache).

While Redis is down every request that touches it would otherwise wait for the same connection timeout. After a
failure the breaker stays open for `cooldown` seconds: callers skip the service (and degrade) without trying;
the first call after that tries again. One warning per outage, one info line when the service answers again.
"""

import logging
import time

logger = logging.getLogger("csplatform.outage")


class Breaker:
    def __init__(self, service: str, *, cooldown: float):
        self.service = service
        self.cooldown = cooldown
        self._open_until = 0.0
        self._down = False

    def is_open(self) -> bool:
        """True while the service failed less than `cooldown` seconds ago: skip it."""
        return time.monotonic() < self._open_until

    def failed(self, error: BaseException) -> None:
        if not self._down:
            logger.warning("%s is unavailable (%s: %s); degrading for %ss before trying again",
                           self.service, type(error).__name__, error, self.cooldown)
        self._down = True
        self._open_until = time.monotonic() + self.cooldown

    def succeeded(self) -> None:
        if self._down:
            logger.info("%s answers again", self.service)
        self._down = False
        self._open_until = 0.0

    def reset(self) -> None:
        """Forgets the last failure (the next call tries the service)."""
        self._down = False
        self._open_until = 0.0
