"""Forms of the compensation pages: the team page's month and team, and ops' assignment form. The service
(services.comp_assign) has the last word on the base range and the dates; its errors land on the fields."""

from decimal import Decimal

from django import forms

from csplatform.tenancy.models import Role, User

from .models import CompAssignment, CompPlan
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
