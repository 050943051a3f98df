"""One row of the targets table: amount, period and on/off of one target (its metric is fixed)."""

from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator

from ..models import Target
from .catalogue import spec_for


class TargetForm(forms.Form):
    amount = forms.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"))
    period = forms.ChoiceField(choices=Target.Period.choices)
    is_active = forms.BooleanField(required=False, label="In use")

    def __init__(self, *args, target: Target, **kwargs):
        kwargs.setdefault("initial", {"amount": target.amount, "period": target.period,
                                      "is_active": target.is_active})
        super().__init__(*args, prefix=f"target-{target.pk}", **kwargs)
        self.target = target
        self.spec = spec_for(target.metric)
        self.fields["amount"].label = f"{self.spec.label}: amount ({self.spec.unit})"
        self.fields["period"].label = f"{self.spec.label}: period"
        self.fields["is_active"].label = f"{self.spec.label}: in use"
        if self.spec.max_amount is not None:
            self.fields["amount"].max_value = self.spec.max_amount
            self.fields["amount"].widget.attrs["max"] = str(self.spec.max_amount)
            self.fields["amount"].validators.append(MaxValueValidator(self.spec.max_amount))
