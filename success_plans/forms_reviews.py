"""Forms of the business review pages (QBR/EBR) and their decision log."""

from django import forms
from django.utils import timezone

from accounts.models import Contact
from csplatform.tenancy.models import User

from .models import BusinessReview, Decision

DATE = forms.DateInput(attrs={"type": "date"})


def _tenant_users(tenant):
    return User.objects.filter(memberships__tenant=tenant).order_by("full_name", "email")


class BusinessReviewForm(forms.Form):
    kind = forms.ChoiceField(choices=BusinessReview.Kind.choices, initial=BusinessReview.Kind.QBR)
    held_on = forms.DateField(label="Date", widget=DATE)
    agenda = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    contacts = forms.ModelMultipleChoiceField(queryset=Contact.objects.none(), required=False,
                                              label="Customer attendees")
    users = forms.ModelMultipleChoiceField(queryset=User.objects.none(), required=False, label="Our attendees")

    def __init__(self, *args, account, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contacts"].queryset = Contact.objects.filter(account=account).order_by("name")
        self.fields["users"].queryset = _tenant_users(tenant)
        if not self.is_bound:
            self.initial.setdefault("held_on", timezone.localdate())


class DecisionForm(forms.Form):
    text = forms.CharField(label="Decision", max_length=500)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label="Owner (our side)")
    owner_contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False,
                                           label="Owner (customer)")
    due_date = forms.DateField(required=False, widget=DATE)

    def __init__(self, *args, review, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _tenant_users(tenant)
        self.fields["owner_contact"].queryset = Contact.objects.filter(account_id=review.account_id).order_by("name")

    def clean(self):
        data = super().clean()
        if data.get("owner") and data.get("owner_contact"):
            self.add_error("owner_contact", "A decision has one owner: one of ours or a customer contact.")
        return data


class DecisionCloseForm(forms.Form):
    status = forms.ChoiceField(choices=[(Decision.Status.DONE, "Done"), (Decision.Status.DROPPED, "Dropped")])
