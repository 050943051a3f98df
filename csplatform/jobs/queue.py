"""Sending tasks to the broker without letting a broker outage fail the request that asked for them.

Everything a task does is also reachable without it: the nightly run recomputes every tenant, and the marks a
request leaves (PendingRefresh, the rows it committed) stay in PostgreSQL. So a publish that fails is logged and
dropped, never raised into a page or an API answer whose data is already committed. The broker's socket
timeouts and the publish retry policy (settings, "Celery") bound how long one attempt may take; the breaker
(csplatform.outage) spares the following requests that wait while Redis is down.
"""

import logging

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnavailable

from csplatform.outage import Breaker

logger = logging.getLogger(__name__)

# Long enough to spare a burst of requests the wait, short enough that the queue is used again soon after Redis.
BROKER_COOLDOWN_SECONDS = 15
broker = Breaker("The task broker (Redis)", cooldown=BROKER_COOLDOWN_SECONDS)


def _eager(task) -> bool:
    return bool(task.app.conf.task_always_eager)


def publish(task, args=(), **options) -> bool:
    """Sends `task` now. False (logged) when the broker is unreachable; exceptions of an eager task propagate."""
    if _eager(task):
        task.apply_async(args, **options)
        return True
    if broker.is_open():
        logger.warning("Not sent (the broker is down): %s%r", task.name, tuple(args))
        return False
    try:
        task.apply_async(args, **options)
    except BrokerUnavailable as error:
        broker.failed(error)
        logger.warning("Not sent (the broker is down): %s%r", task.name, tuple(args))
        return False
    broker.succeeded()
    return True


def publish_on_commit(task, args=(), **options) -> None:
    """Sends `task` once the caller's transaction commits (at once outside one), so the worker sees its rows."""
    transaction.on_commit(lambda: publish(task, args, **options))


def broker_reachable(app) -> bool:
    """Whether the broker answers now (one connection, bounded by the broker timeouts). True in eager mode."""
    if app.conf.task_always_eager:
        return True
    if broker.is_open():
        return False
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0)
    except (BrokerUnavailable, OSError) as error:
        broker.failed(error)
        return False
    broker.succeeded()
    return True
