"""Forms of the health pages: the portfolio filters, scorecards with their measures, the tenant's health settings
and the restate request. Services do the writes; forms check the input and name the fields."""

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import LifecycleStage, Segment

from .models import HealthSettings, Measure, Scorecard
from .portfolio import NPS_DEFAULT_DAYS, NPS_PERIODS, Scope

RESTATE_DEFAULT_DAYS = 30
RESTATE_MAX_DAYS = 365


class PortfolioFilterForm(forms.Form):
    """GET filters of the dashboard. `csm` is a member's id, "me" or "none" (unassigned accounts)."""

    csm = forms.ChoiceField(required=False, label="CSM")
    segment = forms.ModelChoiceField(queryset=Segment.objects.all(), required=False, empty_label="Any")
    stage = forms.ModelChoiceField(queryset=LifecycleStage.objects.all(), required=False, empty_label="Any",
                                   label="Lifecycle stage")
    period = forms.TypedChoiceField(choices=[(str(d), f"Last {d} days") for d in NPS_PERIODS], coerce=int,
                                    required=False, empty_value=NPS_DEFAULT_DAYS, label="NPS period")

    def __init__(self, *args, csms, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["csm"].choices = [("", "Anyone"), ("me", "Me"), ("none", "Unassigned"),
                                      *((str(u.pk), u.display_name) for u in csms)]

    def scope(self) -> Scope:
        data = self.cleaned_data
        csm = data.get("csm") or ""
        csm_id = {"": None, "me": self.user.pk, "none": 0}.get(csm)
        if csm_id is None and csm.isdigit():
            csm_id = int(csm)
        return Scope(csm_id=csm_id, segment_id=data["segment"].pk if data.get("segment") else None,
                     stage_id=data["stage"].pk if data.get("stage") else None)


class ScorecardForm(forms.ModelForm):
    segments = forms.ModelMultipleChoiceField(
        queryset=Segment.objects.all(), required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Accounts in these segments get this scorecard (leave empty to match any segment).")
    stages = forms.ModelMultipleChoiceField(
        queryset=LifecycleStage.objects.all(), required=False, widget=forms.CheckboxSelectMultiple,
        label="Lifecycle stages",
        help_text="Accounts in these stages get this scorecard (leave empty to match any stage).")

    class Meta:
        model = Scorecard
        fields = ["name", "description", "is_default", "is_active", "priority", "segments", "stages"]
        labels = {"is_default": "Default scorecard", "is_active": "Active"}
        help_texts = {"is_default": "Scores every account no other scorecard matches. Only one scorecard is the "
                                    "default: ticking this takes it from the current one."}
        widgets = {"description": forms.Textarea(attrs={"rows": 2})}

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        clash = Scorecard.objects.filter(name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise ValidationError("Another scorecard already has this name.")
        return name


KIND_HELP = dict(Measure.Kind.choices)


class MeasureForm(forms.ModelForm):
    class Meta:
        model = Measure
        fields = ["kind", "label", "window_days", "weight", "direction", "red_threshold", "green_threshold",
                  "position"]
        labels = {"window_days": "Window (days)", "red_threshold": "Raw value scoring 0 (red)",
                  "green_threshold": "Raw value scoring 100 (green)", "position": "Order"}

    def clean_weight(self):
        weight = self.cleaned_data.get("weight")
        if weight is not None and weight <= 0:
            raise ValidationError("The weight must be above 0.")
        return weight

    def _value(self, name):
        if self.is_bound:
            if getattr(self, "cleaned_data", None) and name in self.cleaned_data:
                return self.cleaned_data[name]
            return self.data.get(self.add_prefix(name)) or None
        return getattr(self.instance, name, None)

    def kind_help(self) -> str:
        """What the raw value of the chosen kind means (the kind's label says it, with its unit)."""
        return KIND_HELP.get(self._value("kind") or "", "")

    def mapping_preview(self) -> str:
        """E.g. "raw 10 -> 0, raw 60 -> 100, linear between" for the thresholds entered."""
        red, green = self._value("red_threshold"), self._value("green_threshold")
        if red in (None, "") or green in (None, ""):
            return ""

        def show(value):
            text = str(value)
            return text.rstrip("0").rstrip(".") if "." in text else text

        return f"raw {show(red)} → 0, raw {show(green)} → 100, linear between"


class BaseMeasureFormSet(forms.BaseInlineFormSet):
    def clean(self):
        super().clean()
        if any(self.errors):
            return
        kept = [f for f in self.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE") and (f.instance.pk or f.has_changed())]
        if not kept:
            raise ValidationError("A scorecard needs at least one measure.")


MeasureFormSet = forms.inlineformset_factory(
    Scorecard, Measure, form=MeasureForm, formset=BaseMeasureFormSet, extra=2, can_delete=True,
)


class HealthSettingsForm(forms.ModelForm):
    class Meta:
        model = HealthSettings
        fields = ["green_from", "yellow_from", "drop_alert_points", "drop_alert_days", "green_goal_percent",
                  "survey_link_days"]
        labels = {"green_from": "Green from (score)", "yellow_from": "Yellow from (score)",
                  "drop_alert_points": "Drop alert: points", "drop_alert_days": "Drop alert: within days",
                  "green_goal_percent": "Goal: % of the portfolio green",
                  "survey_link_days": "Survey links expire after (days)"}


class RestateForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=RESTATE_MAX_DAYS, initial=RESTATE_DEFAULT_DAYS,
                              label="Recompute the last N days",
                              help_text=f"1 to {RESTATE_MAX_DAYS}; oldest day first, one job run per day.")
