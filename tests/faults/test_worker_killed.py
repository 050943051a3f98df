"""A worker killed with SIGKILL in the middle of a tenant's nightly job: the tenant's rows stay all of the previous
run's (the job is one transaction), the task is delivered again and finishes the job, and JobRun keeps both
attempts. "The middle" is made deterministic by a second session holding a lock on a table (or row) the job
writes late in its transaction: the job has written part of its rows and waits there when the worker dies.

Two ways a worker dies: its pool process (the kernel's OOM killer), after which the worker hands the task back
at once (acks_late + reject_on_worker_lost); and the whole worker (its machine or container), after which the
task waits in Redis until the visibility timeout and is taken by the next worker that starts.
"""

import time

import pytest

from compensation.models import CompAssignment
from csplatform.tenancy.context import tenant_context

from .night import DAY, attempts, enqueue_night, health_rows, night_finished
from .processes import session_alive, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


# --- health ---------------------------------------------------------------------------------------------------------


def test_it_keeps_the_health_recompute_whole_when_the_pool_process_dies_and_the_redelivery_finishes_it(
        book, workers, lock_holder):
    old_computed, old_portfolio, old_bands, _ = health_rows(lock_holder)
    assert len(old_computed) == 1 and old_portfolio and sum(old_bands.values()) == 5

    # The scores are upserted first, then the band counts are rewritten: stop the job between the two.
    lock_holder.lock_table("health_portfoliohealthdaily")
    worker = workers.start()
    enqueue_night(book, workers)
    victim = wait_for(lambda: lock_holder.waiting_session("DELETE FROM health_portfoliohealthdaily"),
                      "the health job to wait on the band counts, its scores written")
    assert attempts(book, "health.scores") == ["running"]

    worker.kill_pool_process()
    wait_for(lambda: not session_alive(victim), "PostgreSQL to end the dead process's session (and roll it back)")
    assert health_rows(lock_holder)[:2] == (old_computed, old_portfolio)  # all of the previous run's

    lock_holder.release()
    wait_for(lambda: night_finished(book), "the redelivered task to finish the tenant's night")
    computed, portfolio, from_scores, from_portfolio = health_rows(lock_holder)
    assert len(computed) == 1 and computed != old_computed  # all of the new run's
    assert portfolio and not portfolio & old_portfolio
    assert from_portfolio == from_scores
    assert attempts(book, "health.scores") == ["interrupted", "succeeded"]


# --- forecast -------------------------------------------------------------------------------------------------------


def forecast_rows(session):
    lines = {row[0] for row in session.query("SELECT id FROM renewals_forecastline WHERE day = %s", [DAY])}
    snapshots = {row[0] for row in session.query("SELECT id FROM renewals_forecastsnapshot WHERE day = %s", [DAY])}
    return lines, snapshots


def test_it_keeps_the_forecast_whole_when_the_whole_worker_dies_and_the_next_worker_finishes_it(
        book, workers, lock_holder):
    old_lines, old_snapshots = forecast_rows(lock_holder)
    assert len(old_lines) == 5 and old_snapshots

    # The lines are rewritten first, then the snapshot rows: stop the job between the two.
    lock_holder.lock_table("renewals_forecastsnapshot")
    worker = workers.start()
    enqueue_night(book, workers)
    victim = wait_for(lambda: lock_holder.waiting_session("DELETE FROM renewals_forecastsnapshot"),
                      "the forecast job to wait on the snapshots, its lines written")

    worker.kill()
    killed = time.monotonic()
    wait_for(lambda: not session_alive(victim), "PostgreSQL to end the dead worker's session (and roll it back)")
    assert forecast_rows(lock_holder) == (old_lines, old_snapshots)
    lock_holder.release()
    assert attempts(book, "renewals.forecast") == ["running"]  # nobody is left to run it

    # A worker started later takes the task the dead one never acknowledged, once it is older than the visibility
    # timeout (1 s here, an hour in production): a starting worker hands those back at once, younger ones only at
    # its periodic sweep (100 s), so start it when the task is surely old enough.
    time.sleep(max(0.0, killed + 2 - time.monotonic()))
    workers.start(CELERY_VISIBILITY_TIMEOUT="1")
    wait_for(lambda: night_finished(book), "the next worker to take the task over and finish the tenant's night")
    lines, snapshots = forecast_rows(lock_holder)
    assert len(lines) == 5 and not lines & old_lines
    assert snapshots and not snapshots & old_snapshots
    assert attempts(book, "renewals.forecast") == ["interrupted", "succeeded"]


# --- commission statements ------------------------------------------------------------------------------------------


def statement_rows(session):
    statements = dict(session.query("SELECT id, generated_at FROM compensation_compstatement"))
    lines = {row[0] for row in session.query("SELECT id FROM compensation_compline")}
    return statements, lines


def test_it_keeps_the_statements_whole_when_the_pool_process_dies_between_two_csms(book, workers, lock_holder):
    old_statements, old_lines = statement_rows(lock_holder)
    assert len(old_statements) == 2 and old_lines

    # The job writes one CSM's statement and lines, then the next CSM's: hold the second statement's row.
    with tenant_context(book):
        order = [a.csm_id for a in CompAssignment.objects.select_related("plan", "csm")]
        second = dict(lock_holder.query("SELECT csm_id, id FROM compensation_compstatement"))[order[1]]
    lock_holder.lock_row("compensation_compstatement", second)
    worker = workers.start()
    enqueue_night(book, workers)
    victim = wait_for(lambda: lock_holder.waiting_session("UPDATE compensation_compstatement"),
                      "the statements job to wait on the second CSM, the first one's statement written")

    worker.kill_pool_process()
    wait_for(lambda: not session_alive(victim), "PostgreSQL to end the dead process's session (and roll it back)")
    assert statement_rows(lock_holder) == (old_statements, old_lines)

    lock_holder.release()
    wait_for(lambda: night_finished(book), "the redelivered task to finish the tenant's night")
    statements, lines = statement_rows(lock_holder)
    assert statements.keys() == old_statements.keys()
    assert all(statements[pk] > old_statements[pk] for pk in statements)
    assert lines and not lines & old_lines
    assert attempts(book, "compensation.statements") == ["interrupted", "succeeded"]
