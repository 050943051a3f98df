import zoneinfo
from functools import lru_cache

from django import forms

# Names zoneinfo knows that are no place a person lives in.
NOT_PLACES = {"localtime", "Factory", "posixrules"}


@lru_cache(maxsize=1)
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones() - NOT_PLACES)]


class MySettingsForm(forms.Form):
    """The signed-in member's own settings: their time zone (for every workspace) and this workspace's digests.
    Only the digests the member's role receives are offered."""

    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=time_zone_choices,
        help_text="Pages show times in it, and digests arrive at 07:00 in it. It applies in every workspace.",
        error_messages={
            "invalid_choice": "Choose a time zone from the list, such as Europe/Paris or America/New_York."
        },
    )

    def __init__(self, *args, digests=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.digests = list(digests)
        for digest in self.digests:
            self.fields[digest.preference] = forms.BooleanField(
                label=f"Email me the {digest.label.lower()}", required=False, help_text=digest.description
            )
