from django import forms

from .files import MAX_UPLOAD_BYTES, UnreadableFile, read_table
from .mapping import mapping_checked, mapping_missing
from .resources import KIND_CHOICES, RESOURCES


class UploadForm(forms.Form):
    kind = forms.ChoiceField(choices=KIND_CHOICES, label="What the file holds")
    file = forms.FileField(label="CSV or XLSX file", help_text=f"Up to {MAX_UPLOAD_BYTES // 1024 // 1024} MB.",
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        # Checked before reading, so an oversized upload is not pulled into memory.
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is {MAX_UPLOAD_BYTES // 1024 // 1024} MB. "
                "Split it into smaller files."
            )
        try:
            self.table = read_table(filename=upload.name, data=upload.read())
        except UnreadableFile as error:
            raise forms.ValidationError(str(error)) from None
        return upload


class MappingForm(forms.Form):
    """One select of the file's columns per field; required fields the file lacks come first."""

    def __init__(self, *args, kind: str, headers: list[str], mapping: dict[str, str], **kwargs):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.headers = headers
        self.columns = RESOURCES[kind].columns
        choices = [("", "— not in this file —")] + [(h, h) for h in headers]
        for column in self.columns:
            self.fields[column.name] = forms.ChoiceField(
                choices=choices, required=False, initial=mapping.get(column.name, ""), label=column.label,
                help_text=column.help,
            )
        missing = {c.name for c in mapping_missing(columns=self.columns, mapping=mapping)}
        self.groups = [
            ("Required, not found in the file", [self[c.name] for c in self.columns if c.name in missing]),
            ("Optional, not found in the file",
             [self[c.name] for c in self.columns if c.name not in missing and c.name not in mapping]),
            ("Found in the file", [self[c.name] for c in self.columns if c.name in mapping]),
        ]

    def clean(self):
        data = super().clean()
        try:
            mapping = mapping_checked(columns=self.columns, headers=self.headers,
                                      mapping={c.name: data.get(c.name, "") for c in self.columns})
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        missing = mapping_missing(columns=self.columns, mapping=mapping)
        for column in missing:
            self.add_error(column.name, f"Choose the column that holds {column.label}.")
        self.mapping = mapping
        return data
