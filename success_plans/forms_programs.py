"""Forms of the programs pages: playbooks, advocacy, product feedback, process documents."""

from django import forms

from accounts.models import Account, Contact, LifecycleStage

from .models import Advocacy, Playbook, PlaybookStep, ProcessDoc, ProductFeedback

DATE = forms.DateInput(attrs={"type": "date"})


class PlaybookForm(forms.ModelForm):
    class Meta:
        model = Playbook
        fields = ["name", "description", "stage", "is_active"]
        labels = {"stage": "Trigger stage", "is_active": "Active"}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage"].queryset = LifecycleStage.objects.all()
        self.fields["stage"].required = False

    def clean_name(self):
        name = self.cleaned_data["name"]
        clash = Playbook.objects.filter(name__iexact=name)
        if self.instance.pk:
            clash = clash.exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("Another playbook already has this name.")
        return name


class PlaybookStepForm(forms.ModelForm):
    class Meta:
        model = PlaybookStep
        fields = ["position", "title", "day_offset", "type", "priority"]
        labels = {"position": "Order", "day_offset": "Day offset"}


PlaybookStepFormSet = forms.inlineformset_factory(
    Playbook, PlaybookStep, form=PlaybookStepForm, extra=3, can_delete=True,
)


class PlaybookApplyForm(forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.none())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.filter(status=Account.Status.ACTIVE).order_by("name")


class AdvocacyForm(forms.Form):
    kind = forms.ChoiceField(choices=Advocacy.Kind.choices)
    contact = forms.ModelChoiceField(queryset=Contact.objects.none(), required=False)
    status = forms.ChoiceField(choices=Advocacy.Status.choices, initial=Advocacy.Status.COMPLETED)
    happened_on = forms.DateField(label="Date", widget=DATE)
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args, account, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["contact"].queryset = Contact.objects.filter(account=account).order_by("name")


class FeedbackForm(forms.ModelForm):
    class Meta:
        model = ProductFeedback
        fields = ["title", "product_area", "description", "status"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}


class FeedbackAccountForm(forms.Form):
    account = forms.ModelChoiceField(queryset=Account.objects.none(), label="Account asking for it")

    def __init__(self, *args, feedback, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["account"].queryset = Account.objects.exclude(feedback=feedback).order_by("name")


class FeedbackStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ProductFeedback.Status.choices)


class ProcessDocForm(forms.ModelForm):
    class Meta:
        model = ProcessDoc
        fields = ["title", "body"]
        widgets = {"body": forms.Textarea(attrs={"rows": 18})}
        help_texts = {"body": "Markdown: # headings, **bold**, lists, [links](https://…), tables."}
