"""Forms of the renewals pages: board filters, the inline renewal edit and close, flagging and moving an
expansion, the ops settings (lead days, churn reasons, probability table, retention targets) and the contracts
import. Services do the writes; forms check the input and name the fields."""

from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.importing.files import MAX_UPLOAD_BYTES, UnreadableFile, read_table
from accounts.importing.mapping import mapping_checked, mapping_missing
from accounts.models import Segment
from csplatform.tenancy.models import Role, User

from .models import (
    ChurnReason,
    ExpansionOpportunity,
    ProbabilityRule,
    RenewalOpportunity,
    RenewalSettings,
    RetentionTarget,
)
from .probability import DEFAULT_RULES
from .selectors import BoardScope, month_start

Stage = RenewalOpportunity.Stage
OPEN_STAGES = [(value, label) for value, label in Stage.choices if value != Stage.CLOSED]
MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}


class MonthField(forms.DateField):
    """A month as YYYY-MM (the browser's <input type=month>), cleaned to the first of the month."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m"]
    default_error_messages = {"invalid": "Enter a month as YYYY-MM."}

    def to_python(self, value):
        day = super().to_python(value)
        return month_start(day) if day else None


class BoardFilterForm(forms.Form):
    """GET filters of the board. `csm` is the renewal owner's id, "me" or "none"."""

    csm = forms.ChoiceField(required=False, label="CSM")
    segment = forms.ModelChoiceField(queryset=Segment.objects.all(), required=False, empty_label="Any")
    category = forms.ChoiceField(choices=[("", "Any"), *RenewalOpportunity.Category.choices], required=False)
    month_from = MonthField(required=False, label="From month")
    month_to = MonthField(required=False, label="To month")

    def __init__(self, *args, csms, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["csm"].choices = [("", "Anyone"), ("me", "Me"), ("none", "Unassigned"),
                                      *((str(u.pk), u.display_name) for u in csms)]

    def clean(self):
        data = super().clean()
        start, end = data.get("month_from"), data.get("month_to")
        if start and end and end < start:
            self.add_error("month_to", "The last month comes after the first.")
        return data

    def scope(self) -> BoardScope:
        data = self.cleaned_data
        csm = data.get("csm") or ""
        csm_id = {"": None, "me": self.user.pk, "none": 0}.get(csm)
        if csm_id is None and csm.isdigit():
            csm_id = int(csm)
        return BoardScope(csm_id=csm_id, segment_id=data["segment"].pk if data.get("segment") else None,
                          category=data.get("category") or "", month_from=data.get("month_from"),
                          month_to=data.get("month_to"))


class RenewalEditForm(forms.Form):
    """The inline edit of a board row: every field is sent and set."""

    stage = forms.ChoiceField(choices=OPEN_STAGES, error_messages={"invalid_choice": "Pick a stage."})
    category = forms.ChoiceField(choices=RenewalOpportunity.Category.choices,
                                 error_messages={"invalid_choice": "Pick a forecast category."})
    expected_arr = forms.DecimalField(label="Expected ARR", **MONEY)
    close_date = forms.DateField(label="Close date")


class RenewalCloseForm(forms.Form):
    """The outcome of a renewal. The rules between outcome, amount and reason are the service's."""

    outcome = forms.ChoiceField(choices=RenewalOpportunity.Outcome.choices,
                                error_messages={"required": "Pick an outcome.", "invalid_choice": "Pick an outcome."})
    renewed_arr = forms.DecimalField(label="Renewed ARR", required=False, **MONEY)
    reason = forms.ModelChoiceField(queryset=ChurnReason.objects.filter(is_active=True), required=False,
                                    error_messages={"invalid_choice": "Pick a reason from the list."})
    reason_comment = forms.CharField(label="Comment", max_length=500, required=False)


class ExpansionFlagForm(forms.Form):
    product = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=ExpansionOpportunity.Kind.choices, initial=ExpansionOpportunity.Kind.UPSELL)
    amount = forms.DecimalField(label="ARR", **MONEY)
    expected_close = forms.DateField(label="Expected close")
    notes = forms.CharField(max_length=2000, required=False)


class ExpansionMoveForm(forms.Form):
    stage = forms.ChoiceField(choices=ExpansionOpportunity.Stage.choices,
                              error_messages={"invalid_choice": "Pick a stage."})


# --- settings -------------------------------------------------------------------------------------


class LeadDaysForm(forms.ModelForm):
    class Meta:
        model = RenewalSettings
        fields = ["lead_days"]
        labels = {"lead_days": "Open a renewal this many days before its contract ends"}
        help_texts = {"lead_days": "1 to 730. The nightly job opens each renewal once; changing this opens "
                                   "renewals that fall into the new window tonight."}


class ChurnReasonForm(forms.ModelForm):
    class Meta:
        model = ChurnReason
        fields = ["name", "applies_to", "is_active"]
        labels = {"is_active": "Active", "applies_to": "Applies to"}

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        # The unique constraint includes the tenant, which the form never sees.
        if ChurnReason.objects.filter(name__iexact=name).exclude(pk=self.instance.pk).exists():
            raise ValidationError("The list already has this reason.")
        return name


class ProbabilityForm(forms.Form):
    """One number per row of the table: category base %, stage and band points."""

    LIMITS = {ProbabilityRule.Dimension.CATEGORY: (0, 100)}

    def __init__(self, *args, table: dict, **kwargs):
        super().__init__(*args, **kwargs)
        labels = {ProbabilityRule.Dimension.CATEGORY: dict(RenewalOpportunity.Category.choices),
                  ProbabilityRule.Dimension.STAGE: dict(OPEN_STAGES),
                  ProbabilityRule.Dimension.BAND: {"green": "Green", "yellow": "Yellow", "red": "Red",
                                                   "none": "No health data"}}
        self.groups = []
        for dimension, defaults in DEFAULT_RULES.items():
            low, high = self.LIMITS.get(dimension, (-100, 100))
            names = []
            for key, default in defaults.items():
                name = f"{dimension}__{key}"
                self.fields[name] = forms.DecimalField(
                    label=labels[dimension].get(key, key), max_digits=5, decimal_places=2, min_value=low,
                    max_value=high, initial=table.get(dimension, {}).get(key, default),
                    help_text=f"default {default}")
                names.append(name)
            self.groups.append((ProbabilityRule.Dimension(dimension).label, [self[n] for n in names]))

    def rules(self) -> list[tuple[str, str, Decimal]]:
        return [(name.split("__")[0], name.split("__")[1], value) for name, value in self.cleaned_data.items()]


class TargetForm(forms.ModelForm):
    """A quarterly target for the tenant (no one picked), a manager's team or one CSM."""

    class Meta:
        model = RetentionTarget
        fields = ["year", "quarter", "team_manager", "csm", "grr_target", "nrr_target"]
        labels = {"team_manager": "Team of manager", "csm": "CSM", "grr_target": "GRR target %",
                  "nrr_target": "NRR target %", "quarter": "Fiscal quarter"}
        help_texts = {"team_manager": "Leave both empty for the whole workspace."}

    def __init__(self, *args, tenant, **kwargs):
        super().__init__(*args, **kwargs)
        members = User.objects.filter(memberships__tenant=tenant).order_by("full_name", "email")
        self.fields["team_manager"].queryset = members.filter(memberships__role=Role.MANAGER)
        self.fields["csm"].queryset = members.filter(memberships__role=Role.CSM)
        self.fields["team_manager"].label_from_instance = self.fields["csm"].label_from_instance = (
            lambda user: user.display_name)
        self.fields["quarter"] = forms.TypedChoiceField(choices=[(q, f"Q{q}") for q in range(1, 5)], coerce=int,
                                                        label="Fiscal quarter")
        self.fields["year"].initial = self.fields["year"].initial or timezone.localdate().year
        for name in ("grr_target", "nrr_target"):
            self.fields[name].min_value = Decimal("0")
            self.fields[name].validators.append(_not_negative)

    def clean(self):
        data = super().clean()
        manager, csm = data.get("team_manager"), data.get("csm")
        if manager and csm:
            raise ValidationError("A target is for the workspace, one team or one CSM: pick a manager or a CSM, "
                                  "not both.")
        if data.get("grr_target") is not None and data["grr_target"] > 100:
            self.add_error("grr_target", "Gross retention cannot exceed 100%.")
        year, quarter = data.get("year"), data.get("quarter")
        if year and quarter:
            same = RetentionTarget.objects.filter(year=year, quarter=quarter, team_manager=manager, csm=csm)
            if same.exclude(pk=self.instance.pk).exists():
                who = (f"{manager.display_name}'s team" if manager else csm.display_name if csm
                       else "the workspace")
                raise ValidationError(f"{who} already has a target for {year} Q{quarter}; edit that one.")
        return data


def _not_negative(value):
    if value is not None and value < 0:
        raise ValidationError("Must be 0 or more.")


# --- contracts import -----------------------------------------------------------------------------


class ContractUploadForm(forms.Form):
    file = forms.FileField(label="CSV or XLSX file", help_text=f"Up to {MAX_UPLOAD_BYTES // 1024 // 1024} MB.",
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is "
                                  f"{MAX_UPLOAD_BYTES // 1024 // 1024} MB. Split it into smaller files.")
        try:
            self.table = read_table(filename=upload.name, data=upload.read())
        except UnreadableFile as error:
            raise ValidationError(str(error)) from None
        return upload


class ContractMappingForm(forms.Form):
    """One select of the file's columns per field (as the accounts import's mapping form)."""

    def __init__(self, *args, columns, headers: list[str], mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.columns, self.headers = columns, headers
        choices = [("", "— not in this file —")] + [(h, h) for h in headers]
        for column in columns:
            self.fields[column.name] = forms.ChoiceField(choices=choices, required=False, label=column.label,
                                                         initial=mapping.get(column.name, ""), help_text=column.help)
        missing = {c.name for c in mapping_missing(columns=columns, mapping=mapping)}
        self.groups = [
            ("Required, not found in the file", [self[c.name] for c in columns if c.name in missing]),
            ("Optional, not found in the file",
             [self[c.name] for c in columns if c.name not in missing and c.name not in mapping]),
            ("Found in the file", [self[c.name] for c in columns if c.name in mapping]),
        ]

    def clean(self):
        data = super().clean()
        try:
            mapping = mapping_checked(columns=self.columns, headers=self.headers,
                                      mapping={c.name: data.get(c.name, "") for c in self.columns})
        except ValueError as error:
            raise ValidationError(str(error)) from None
        for column in mapping_missing(columns=self.columns, mapping=mapping):
            self.add_error(column.name, f"Choose the column that holds {column.label}.")
        self.mapping = mapping
        return data
