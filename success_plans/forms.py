"""Forms of the success plan pages. Services do the writes; forms check the input and name the fields."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from accounts.models import Contact
from csplatform.tenancy.models import User

from .models import Goal, Risk, SuccessPlan, Task, ValueRealised

DATE = {"type": "date"}


def _members(tenant):
    return User.objects.filter(memberships__tenant=tenant).order_by("full_name", "email")


class SuccessPlanForm(forms.ModelForm):
    class Meta:
        model = SuccessPlan
        fields = ["title", "status", "owner", "period_start", "period_end", "objectives", "roi_hypothesis"]
        widgets = {
            "period_start": forms.DateInput(attrs=DATE),
            "period_end": forms.DateInput(attrs=DATE),
            "objectives": forms.Textarea(attrs={"rows": 4}),
            "roi_hypothesis": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {"roi_hypothesis": "ROI hypothesis"}

    def __init__(self, *args, account, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _members(tenant)
        self.fields["owner"].required = False
        self.instance.account = account
        if not self.instance.pk and not self.is_bound:
            today = timezone.localdate()
            self.initial.setdefault("period_start", today)
            self.initial.setdefault("period_end", today + timedelta(days=364))
            self.initial.setdefault("owner", account.csm_id)

    def clean(self):
        data = super().clean()
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "The plan ends after it starts.")
        return data


class GoalCreateForm(forms.Form):
    title = forms.CharField(max_length=200)
    measure = forms.CharField(max_length=200, help_text="What is measured, e.g. 'weekly active users'")
    unit = forms.CharField(max_length=40, required=False)
    baseline = forms.DecimalField(max_digits=16, decimal_places=2)
    target = forms.DecimalField(max_digits=16, decimal_places=2)
    start_date = forms.DateField(required=False, widget=forms.DateInput(attrs=DATE), help_text="Default: today")
    due_date = forms.DateField(widget=forms.DateInput(attrs=DATE))
    approved_by = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False,
                                         label="Approved by (customer contact)")

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approved_by"].queryset = Contact.objects.filter(account=account).order_by("name")

    def clean(self):
        data = super().clean()
        if data.get("baseline") is not None and data.get("baseline") == data.get("target"):
            self.add_error("target", "The target differs from the baseline.")
        start = data.get("start_date") or timezone.localdate()
        if data.get("due_date") and data["due_date"] < start:
            self.add_error("due_date", "The goal is due after it starts.")
        return data


class GoalProgressForm(forms.Form):
    value = forms.DecimalField(max_digits=16, decimal_places=2)
    as_of = forms.DateField(required=False, widget=forms.DateInput(attrs=DATE), help_text="Default: today")
    note = forms.CharField(max_length=300, required=False)

    def clean_as_of(self):
        as_of = self.cleaned_data.get("as_of")
        if as_of and as_of > timezone.localdate():
            raise forms.ValidationError("A reading cannot be dated in the future.")
        return as_of


class GoalApproveForm(forms.Form):
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), label="Approved by")
    approved_on = forms.DateField(required=False, widget=forms.DateInput(attrs=DATE))

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        # Any contact of this tenant, so that another account's contact is refused with a message, not a 404.
        self.fields["contact"].queryset = Contact.objects.all()
        self.account = account

    def clean_contact(self):
        contact = self.cleaned_data["contact"]
        if contact.account_id != self.account.pk:
            raise forms.ValidationError(f"{contact.name} is not at {self.account.name}.")
        return contact


class GoalOverrideForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "Follow the numbers (no override)"), *Goal.Status.choices],
                               required=False)
    reason = forms.CharField(max_length=300, required=False)

    def clean(self):
        data = super().clean()
        if data.get("status") and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why the status differs from what the numbers show.")
        return data


class ValueRecordForm(forms.Form):
    kind = forms.ChoiceField(choices=ValueRealised.Kind.choices)
    amount = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, help_text="In the tenant currency")
    realised_on = forms.DateField(widget=forms.DateInput(attrs=DATE))
    how_measured = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    goal = forms.ModelChoiceField(queryset=Goal.objects.none(), required=False)
    validated_by = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False,
                                          label="Validated by (customer contact)")

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["goal"].queryset = Goal.objects.filter(account=account).order_by("due_date", "id")
        self.fields["validated_by"].queryset = Contact.objects.filter(account=account).order_by("name")
        if not self.is_bound:
            self.initial.setdefault("realised_on", timezone.localdate())


class RiskForm(forms.ModelForm):
    class Meta:
        model = Risk
        fields = ["title", "severity", "mitigation", "owner"]
        widgets = {"mitigation": forms.Textarea(attrs={"rows": 2})}

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _members(tenant)


class RiskStatusForm(forms.Form):
    status = forms.ChoiceField(choices=Risk.Status.choices)


class TaskCreateForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    due_date = forms.DateField(required=False, widget=forms.DateInput(attrs=DATE))
    priority = forms.ChoiceField(choices=Task.Priority.choices, initial=Task.Priority.NORMAL)
    type = forms.ChoiceField(choices=Task.Type.choices, initial=Task.Type.TASK)
    plan = forms.ModelChoiceField(queryset=SuccessPlan.objects.none(), required=False)

    def __init__(self, *args, account, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _members(tenant)
        self.fields["plan"].queryset = SuccessPlan.objects.filter(account=account)
        if not self.is_bound:
            self.initial.setdefault("owner", account.csm_id)
