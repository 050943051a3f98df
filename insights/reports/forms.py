from django import forms

from accounts.models import Contact

from .services import RECOMMENDATION_MAX


class RecommendationForm(forms.Form):
    recommendation = forms.CharField(
        label="What we recommend", required=False, max_length=RECOMMENDATION_MAX,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text="The next steps you suggest to the client; shown at the end of the report.")


class ContactChoice(forms.ModelMultipleChoiceField):
    def label_from_instance(self, contact):
        persona = contact.get_persona_display()
        return f"{contact.name} ({persona}) <{contact.email}>"


class DeliverForm(forms.Form):
    contacts = ContactChoice(queryset=Contact.objects.none(), widget=forms.CheckboxSelectMultiple,
                             label="Send to", error_messages={"required": "Choose at least one contact."})
    minutes_spent = forms.IntegerField(label="Time spent on the report (minutes)", required=False, min_value=0,
                                       max_value=600, initial=0,
                                       help_text="Logged with the email on the timeline: it shows on your timesheet.")

    def __init__(self, *args, contacts, **kwargs):
        super().__init__(*args, **kwargs)
        # The account's contacts with an email address, read once by the view (the choices reuse them).
        self.fields["contacts"].queryset = Contact.objects.filter(pk__in=[c.pk for c in contacts])
        self.fields["contacts"].choices = [(c.pk, self.fields["contacts"].label_from_instance(c)) for c in contacts]


class FollowUpForm(forms.Form):
    due_date = forms.DateField(label="Call on", widget=forms.DateInput(attrs={"type": "date"}),
                               error_messages={"required": "Choose the day of the follow-up call."})
    title = forms.CharField(label="Title", required=False, max_length=200,
                            help_text="Leave empty for \u201cFollow-up call on the <month> report\u201d.")
