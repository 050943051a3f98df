from django import forms
from django.utils import timezone

from csplatform.tenancy.models import User

from .models import Account, Activity, Contact, Escalation


class ActivityForm(forms.Form):
    kind = forms.ChoiceField(choices=Activity.Kind.choices, initial=Activity.Kind.CALL)
    subject = forms.CharField(max_length=200)
    occurred_at = forms.DateTimeField(
        label="When", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    minutes_spent = forms.IntegerField(label="Minutes spent", min_value=0, max_value=24 * 60, initial=30)
    contacts = forms.ModelMultipleChoiceField(queryset=Contact.objects.none(), required=False, label="With")
    body = forms.CharField(label="Notes", widget=forms.Textarea(attrs={"rows": 3}), required=False)
    outcome = forms.CharField(max_length=200, required=False)
    next_step = forms.CharField(max_length=200, required=False)
    next_step_due = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = Contact.objects.filter(account=account).order_by("name")
        if not self.is_bound:
            self.initial.setdefault("occurred_at", timezone.localtime().replace(second=0, microsecond=0))

    def clean_occurred_at(self):
        value = self.cleaned_data["occurred_at"]
        if value > timezone.now() + timezone.timedelta(days=1):
            raise forms.ValidationError("An activity cannot be logged in the future.")
        return value

    def clean(self):
        data = super().clean()
        if data.get("next_step_due") and not data.get("next_step"):
            self.add_error("next_step", "Say what the next step is, or clear its due date.")
        return data


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "email", "title", "persona", "influence", "sentiment", "reports_to", "receives_surveys"]

    def __init__(self, *args, account: Account, **kwargs):
        super().__init__(*args, **kwargs)
        others = Contact.objects.filter(account=account).order_by("name")
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        self.fields["reports_to"].queryset = others
        self.instance.account = account


class AccountForm(forms.ModelForm):
    class Meta:
        model = Account
        fields = [
            "name", "external_id", "domain", "industry", "region", "segment", "stage", "csm", "parent",
            "licensed_seats", "long_term_potential", "status", "churn_date",
        ]
        widgets = {"churn_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        from .models import LifecycleStage, Segment

        self.fields["segment"].queryset = Segment.objects.all()
        self.fields["stage"].queryset = LifecycleStage.objects.all()
        self.fields["csm"].queryset = User.objects.filter(memberships__tenant=tenant).order_by("full_name")
        parents = Account.objects.order_by("name")
        if self.instance.pk:
            parents = parents.exclude(pk=self.instance.pk)
        self.fields["parent"].queryset = parents

    def clean(self):
        data = super().clean()
        if data.get("status") == Account.Status.CHURNED and not data.get("churn_date"):
            self.add_error("churn_date", "A churned account needs its churn date.")
        if data.get("status") == Account.Status.ACTIVE and data.get("churn_date"):
            self.add_error("churn_date", "Only a churned account has a churn date.")
        external_id = data.get("external_id")
        if external_id:
            clash = Account.objects.filter(external_id=external_id)
            if self.instance.pk:
                clash = clash.exclude(pk=self.instance.pk)
            if clash.exists():
                self.add_error("external_id", "Another account already has this CRM id.")
        return data


class EscalationForm(forms.Form):
    title = forms.CharField(max_length=200)
    severity = forms.ChoiceField(choices=Escalation.Severity.choices, initial=Escalation.Severity.MEDIUM)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    escalated_to = forms.ModelChoiceField(queryset=User.objects.none(), required=False)

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["escalated_to"].queryset = User.objects.filter(
            memberships__tenant=tenant, memberships__role__in=["manager", "executive", "admin"]
        ).order_by("full_name")


class EscalationMoveForm(forms.Form):
    status = forms.ChoiceField(choices=Escalation.Status.choices)
    note = forms.CharField(max_length=500, required=False)
    resolution = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    seen_status = forms.CharField(widget=forms.HiddenInput)
