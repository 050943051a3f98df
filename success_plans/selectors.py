"""Reads for success plans: ROI, decisions carried forward, feedback ranking, advocacy counts, my work."""

from datetime import date
from decimal import Decimal

from django.db.models import Count, Q, Sum

from .models import Advocacy, BusinessReview, Decision, Goal, ProductFeedback, ValueRealised


def approved_goals_in_year(*, account, year: int) -> int:
    """New customer-approved goals this year (the team's rule of thumb: two per client per year)."""
    return Goal.objects.filter(account=account, approved_on__year=year).count()


def value_in_year(*, account, year: int) -> dict:
    totals = ValueRealised.objects.filter(account=account, realised_on__year=year).aggregate(
        total=Sum("amount"), validated=Sum("amount", filter=Q(validated_by__isnull=False)))
    return {"total": totals["total"] or Decimal(0), "validated": totals["validated"] or Decimal(0)}


def roi(*, value: Decimal, paid: Decimal | None) -> Decimal | None:
    """Value realised as a share of what the customer pays (1.0 = 100%); None until ARR is known."""
    if not paid:
        return None
    return (value / paid).quantize(Decimal("0.01"))


def decisions_for_review(*, review: BusinessReview) -> dict:
    """Decisions taken at this review, and the ones carried forward: still open from earlier reviews."""
    taken = list(Decision.objects.filter(review=review).select_related("owner", "owner_contact"))
    carried = list(
        Decision.objects.filter(account_id=review.account_id, status=Decision.Status.OPEN,
                                review__held_on__lt=review.held_on)
        .select_related("owner", "owner_contact", "review")
        .order_by("review__held_on", "id")
    )
    return {"taken": taken, "carried": carried}


def feedback_ranking(*, status: str | None = None, arr_by_account=None):
    """Product feedback by prevalence (accounts asking), then by ARR at stake.

    `arr_by_account` is an expression or mapping the renewals app provides once contracts exist; until
    then ARR at stake is unknown and the ranking is by prevalence alone.
    """
    items = ProductFeedback.objects.annotate(prevalence=Count("accounts", distinct=True))
    if status:
        items = items.filter(status=status)
    return items.order_by("-prevalence", "-created_at")


def advocacy_per_csm(*, year: int):
    """Advocacy records per CSM and kind in a year, counted on the CSM who captured them."""
    return (
        Advocacy.objects.filter(happened_on__year=year)
        .values("captured_by_id", "captured_by__full_name", "captured_by__email", "kind")
        .annotate(count=Count("id"))
        .order_by("captured_by__full_name", "kind")
    )


def reviews_between(*, start: date, end: date, user_ids=None):
    reviews = BusinessReview.objects.filter(held_on__gte=start, held_on__lt=end).select_related("account")
    if user_ids is not None:
        reviews = reviews.filter(account__csm_id__in=user_ids)
    return reviews.order_by("held_on")
