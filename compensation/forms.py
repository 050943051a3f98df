"""Forms of the compensation pages: the team page's month and team, and ops' assignment, plan and rule forms. The
services (services.comp_assign, plan_services.comp_plan_update and comp_rule_update) have the last word on the
base range, the dates and the parameters; their errors land on the fields."""

from decimal import Decimal

from django import forms

from csplatform.tenancy.models import Role, User

from .models import CompAssignment, CompPlan, CompRule
from .plan_services import RULE_FIELDS
from .selectors import month_choices, teams


class TeamFilterForm(forms.Form):
    month = forms.ChoiceField(required=False, label="Month")
    team = forms.ChoiceField(required=False, label="Team")

    def __init__(self, *args, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.months = month_choices(today)
        self.fields["month"].choices = [(m.strftime("%Y-%m"), m.strftime("%B %Y")) for m in self.months]
        self.fields["team"].choices = [("", "Everyone"), *((str(pk), f"{name}'s team") for pk, name in teams())]

    def chosen(self):
        """(first day of the month, manager id or None); the current month and everyone when not valid."""
        if not self.is_valid():
            return self.months[0], None
        month = next((m for m in self.months if m.strftime("%Y-%m") == self.cleaned_data["month"]), self.months[0])
        team = self.cleaned_data["team"]
        return month, int(team) if team else None


class AssignmentForm(forms.Form):
    plan = forms.ModelChoiceField(queryset=CompPlan.objects.all(), empty_label=None)
    csm = forms.ModelChoiceField(queryset=User.objects.none(), label="CSM")
    annual_base = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"),
                                     help_text="Within the plan's base range")
    starts_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                                help_text="Empty: the plan year's first day")
    ends_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                              help_text="Empty: to the end of the plan year")

    def __init__(self, *args, tenant, assignment: CompAssignment | None = None, **kwargs):
        if assignment is not None:
            kwargs.setdefault("initial", {"plan": assignment.plan_id, "csm": assignment.csm_id,
                                          "annual_base": assignment.annual_base, "starts_on": assignment.starts_on,
                                          "ends_on": assignment.ends_on})
        super().__init__(*args, **kwargs)
        self.fields["csm"].queryset = User.objects.filter(
            memberships__tenant=tenant, memberships__role__in=[Role.CSM, Role.MANAGER]).order_by("full_name", "email")
        if assignment is not None:
            # Editing keeps the CSM and plan: a different CSM is a new assignment.
            self.fields["plan"].disabled = self.fields["csm"].disabled = True


class PlanForm(forms.Form):
    name = forms.CharField(max_length=120)
    base_min = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"), label="Base from")
    base_max = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"), label="Base to")

    def __init__(self, *args, plan: CompPlan, **kwargs):
        kwargs.setdefault("prefix", f"plan-{plan.pk}")
        kwargs.setdefault("initial", {"name": plan.name, "base_min": plan.base_min, "base_max": plan.base_max})
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        low, high = data.get("base_min"), data.get("base_max")
        if low is not None and high is not None and high < low:
            self.add_error("base_max", "The maximum base cannot be below the minimum.")
        return data


class RuleForm(forms.Form):
    """Only the parameters the rule's kind uses (plan_services.RULE_FIELDS); the rate is a share, as shown."""

    rate = forms.DecimalField(max_digits=7, decimal_places=4, min_value=Decimal("0"), max_value=Decimal("1"),
                              label="Rate (share)", help_text="0.025 for 2.5%")
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=Decimal("0"), label="Amount")
    threshold = forms.IntegerField(min_value=1, label="Threshold")
    count_won_only = forms.BooleanField(required=False, label="Count won opportunities only")
    year_end = forms.BooleanField(required=False, label="Paid at year end (behind the gates)")

    def __init__(self, *args, rule: CompRule, **kwargs):
        kwargs.setdefault("prefix", f"rule-{rule.pk}")
        used = RULE_FIELDS.get(rule.kind, ())
        kwargs.setdefault("initial", {name: getattr(rule, name) for name in used})
        super().__init__(*args, **kwargs)
        for name in list(self.fields):
            if name not in used:
                del self.fields[name]
        if "threshold" in self.fields:
            quota = rule.kind == CompRule.Kind.QUOTA_BONUS
            self.fields["threshold"].help_text = ("Opportunities for the bonus" if quota
                                                  else "Approved documents per payment")
