"""What each target metric counts: code, not data. The amount, the period and whether a target is in use are the
tenant's data (insights.models.Target, set by ops); this catalogue says how the amount turns into a goal and what
is counted toward it. The "how" sentence is shown next to every target on the pages and in the API, so it must
stay true to insights/targets/progress.py.

"A CSM's clients" are the ACTIVE accounts whose CSM is that person now (a reassigned account counts for its new
CSM, history included)."""

from dataclasses import dataclass
from decimal import Decimal

from ..models import Target

M = Target.Metric


class Basis:
    PER_CLIENT = "per_client"  # goal = amount x the CSM's clients
    PER_CSM = "per_csm"  # goal = amount
    PER_REPORT = "per_report"  # goal = amount x the CSM's monthly reports of the period's cycles
    PER_WORKING_DAY = "per_working_day"  # goal = amount x the working days of the period
    SHARE_ACCOUNTS = "share_accounts"  # a percentage of the clients, measured on the latest scored day
    SHARE_ARR = "share_arr"  # a percentage of the clients' ARR, measured on the latest scored day
    SCORE = "score"  # a score (NPS) over the period's answers

    LABELS = {
        PER_CLIENT: "per client per period",
        PER_CSM: "per CSM per period",
        PER_REPORT: "per monthly report (every client every month)",
        PER_WORKING_DAY: "per working day",
        SHARE_ACCOUNTS: "share of accounts",
        SHARE_ARR: "share of ARR",
        SCORE: "score",
    }
    COUNTS = (PER_CLIENT, PER_CSM, PER_REPORT, PER_WORKING_DAY)


AT_LEAST = "at_least"
AT_MOST = "at_most"
DIRECTION_LABELS = {AT_LEAST: "at least", AT_MOST: "at most"}


@dataclass(frozen=True)
class MetricSpec:
    metric: str
    label: str
    basis: str
    direction: str
    unit: str  # what the amount is in: "goals", "%", "points"...
    noun: tuple[str, str]  # what is counted, singular and plural, for the pace sentence
    how: str  # one line: how it is counted
    max_amount: Decimal | None = None  # the largest meaningful amount (100 for a percentage)

    @property
    def is_count(self) -> bool:
        return self.basis in Basis.COUNTS

    @property
    def is_share(self) -> bool:
        return self.basis in (Basis.SHARE_ACCOUNTS, Basis.SHARE_ARR)

    @property
    def basis_label(self) -> str:
        return Basis.LABELS[self.basis]

    @property
    def direction_label(self) -> str:
        return DIRECTION_LABELS[self.direction]

    def nouns(self, n) -> str:
        return self.noun[0] if n == 1 else self.noun[1]


CATALOGUE: dict[str, MetricSpec] = {spec.metric: spec for spec in [
    MetricSpec(
        M.APPROVED_GOALS, M.APPROVED_GOALS.label, Basis.PER_CLIENT, AT_LEAST, "goals per client",
        ("goal", "goals"),
        "Success-plan goals on your clients that the customer approved in the period (approval date); "
        "goal = amount x your clients."),
    MetricSpec(
        M.EXPANSIONS_FLAGGED, M.EXPANSIONS_FLAGGED.label, Basis.PER_CSM, AT_LEAST, "opportunities",
        ("opportunity", "opportunities"),
        "Upsell and cross-sell opportunities created in the period with you as the lead source, whatever "
        "their stage since."),
    MetricSpec(
        M.REFERRALS, M.REFERRALS.label, Basis.PER_CSM, AT_LEAST, "referrals", ("referral", "referrals"),
        "Advocacy records of kind referral that you captured, dated in the period, unless declined."),
    MetricSpec(
        M.FEEDBACK_SOLICITED, M.FEEDBACK_SOLICITED.label, Basis.PER_CLIENT, AT_LEAST, "times per client",
        ("client", "clients"),
        "Your clients with a survey sent or a \"Feedback requested\" activity in the period (each client "
        "counts once); goal = amount x your clients."),
    MetricSpec(
        M.CASE_STUDIES, M.CASE_STUDIES.label, Basis.PER_CSM, AT_LEAST, "case studies",
        ("case study", "case studies"),
        "Advocacy records of kind case study that you captured, dated in the period, unless declined."),
    MetricSpec(
        M.REPORTS_DELIVERED, M.REPORTS_DELIVERED.label, Basis.PER_REPORT, AT_LEAST, "share of reports (1 = all)",
        ("report", "reports"),
        "Monthly reports drafted for you and delivered, for each month whose delivery month falls in the "
        "period so far (this month: last month's reports); goal = amount x those reports (x your clients "
        "before any is drafted).",
        max_amount=Decimal("1")),
    MetricSpec(
        M.ACTIVITY_DAYS, M.ACTIVITY_DAYS.label, Basis.PER_WORKING_DAY, AT_LEAST, "share of working days (1 = all)",
        ("working day", "working days"),
        "Working days (Monday to Friday) of the period so far on which you logged at least one activity with "
        "time spent; goal = amount x the period's working days.",
        max_amount=Decimal("1")),
    MetricSpec(
        M.GREEN_ACCOUNTS, M.GREEN_ACCOUNTS.label, Basis.SHARE_ACCOUNTS, AT_LEAST, "% of accounts",
        ("account", "accounts"),
        "Share of your clients whose health band is green on the latest scored day (unscored counts as not "
        "green).",
        max_amount=Decimal("100")),
    MetricSpec(
        M.GREEN_ARR, M.GREEN_ARR.label, Basis.SHARE_ARR, AT_LEAST, "% of ARR", ("account", "accounts"),
        "Share of your clients' ARR on accounts whose health band is green on the latest scored day.",
        max_amount=Decimal("100")),
    MetricSpec(
        M.RED_ARR, M.RED_ARR.label, Basis.SHARE_ARR, AT_MOST, "% of ARR", ("account", "accounts"),
        "Share of your clients' ARR on accounts whose health band is red on the latest scored day.",
        max_amount=Decimal("100")),
    MetricSpec(
        M.NPS, M.NPS.label, Basis.SCORE, AT_LEAST, "NPS points", ("answer", "answers"),
        "NPS of the survey answers given in the period on your clients: % promoters (9-10) minus % "
        "detractors (0-6).",
        max_amount=Decimal("100")),
]}

assert set(CATALOGUE) == set(M.values), "every Target.Metric needs a catalogue entry"


def spec_for(metric: str) -> MetricSpec:
    return CATALOGUE[metric]
