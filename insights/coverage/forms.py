"""Forms of the coverage pages. The services (accounts_reassign, coverage_rule_save) have the last word; their
errors land on these fields."""

from django import forms

from accounts.models import Segment
from csplatform.tenancy.models import User

from ..models import AccountAssignment, CoverageRule
from .selectors import coverage_people


class IdListField(forms.Field):
    """Ids posted as repeated `name=<id>` values (the page's checkboxes); integers, at least one."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {"required": "Pick at least one account.", "invalid": "Pick accounts from the list."}

    def to_python(self, value):
        if not value:
            return []
        if not isinstance(value, list | tuple):
            value = [value]
        try:
            return sorted({int(v) for v in value})
        except (TypeError, ValueError):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


class ReassignForm(forms.Form):
    account_ids = IdListField(label="Accounts")
    to_user = forms.ModelChoiceField(queryset=User.objects.none(), label="Move to",
                                     empty_label="Pick a CSM", help_text="A CSM or manager of this workspace")
    note = forms.CharField(required=False, max_length=AccountAssignment._meta.get_field("note").max_length,
                           widget=forms.TextInput(attrs={"placeholder": "Why (optional): kept on each account"}))

    def __init__(self, *args, tenant, user_ids=None, **kwargs):
        super().__init__(*args, **kwargs)
        # A manager is offered their team; the service refuses anyone else whatever is posted.
        self.fields["to_user"].queryset = coverage_people(tenant=tenant, user_ids=user_ids)
        self.fields["to_user"].label_from_instance = lambda user: user.display_name


class RuleNewForm(forms.Form):
    segment = forms.ModelChoiceField(queryset=Segment.objects.none(), empty_label="Pick a segment")
    accounts_per_csm = forms.IntegerField(label="Accounts per CSM", min_value=1, max_value=100_000)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        taken = CoverageRule.objects.filter(segment__isnull=False).values("segment_id")
        self.fields["segment"].queryset = Segment.objects.exclude(pk__in=taken).order_by("position", "name")


class RuleEditForm(forms.Form):
    accounts_per_csm = forms.IntegerField(label="Accounts per CSM", min_value=1, max_value=100_000)

    def __init__(self, *args, rule: CoverageRule, **kwargs):
        kwargs.setdefault("initial", {"accounts_per_csm": rule.accounts_per_csm})
        kwargs.setdefault("prefix", f"rule-{rule.pk}")
        super().__init__(*args, **kwargs)
        self.rule_id = rule.pk
