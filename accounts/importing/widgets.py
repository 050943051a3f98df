"""Cell parsers for the import resources (django-import-export widgets).

A widget's `clean` turns one cell (always a string, see files.py) into a value or raises ValueError
with a message for the person fixing the file; import-export reports it against the column.
Lookups go through the tenant-scoped managers (or filter Membership by the current tenant) and are
loaded once per import, so a row can only ever point at the current tenant's rows.
"""

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from import_export.widgets import Widget

from csplatform.tenancy.context import current_tenant_id
from csplatform.tenancy.models import Membership

DATE_FORMATS = ("%m/%d/%Y", "%d.%m.%Y")  # besides ISO: Salesforce (US locale) and dotted European dates
DATETIME_FORMATS = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S", "%d.%m.%Y %H:%M")
DATE_HINT = "use YYYY-MM-DD, M/D/YYYY or D.M.YYYY"


def normalized(text: str) -> str:
    """'Executive Sponsor', 'executive_sponsor' and 'EXECUTIVE-SPONSOR' compare equal."""
    return re.sub(r"[^0-9a-z]", "", str(text).casefold())


def cell_text(value) -> str:
    return "" if value is None else str(value).strip()


class TextWidget(Widget):
    def clean(self, value, row=None, **kwargs):
        return cell_text(value)


class WebsiteWidget(TextWidget):
    """A Salesforce 'Website' is a URL; we keep the bare domain."""

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).lower()
        text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
        text = re.split(r"[/?#]", text, maxsplit=1)[0]
        return text.removeprefix("www.")


def _decimal(value, *, strip: str, max_length: int) -> Decimal | None:
    """The cell as a finite Decimal ('' -> None), or InvalidOperation; thousands separators are dropped."""
    text = re.sub(strip, "", cell_text(value))
    if not text:
        return None
    number = Decimal(text) if len(text) <= max_length else None
    if number is None or not number.is_finite():
        raise InvalidOperation(text)
    return number


class WholeNumberWidget(Widget):
    def clean(self, value, row=None, **kwargs):
        not_whole = ValueError(f"{cell_text(value)!r} is not a whole number.")
        try:
            number = _decimal(value, strip=r"[,\s\u00a0]", max_length=15)
        except InvalidOperation:
            raise not_whole from None
        if number is None:
            return None
        if number != number.to_integral_value():
            raise not_whole
        if number < 0:
            raise ValueError("Must be 0 or more.")
        return int(number)


class MoneyWidget(Widget):
    def clean(self, value, row=None, **kwargs):
        try:
            amount = _decimal(value, strip=r"[,\s\u00a0$€£]", max_length=20)
        except InvalidOperation:
            raise ValueError(f"{cell_text(value)!r} is not an amount.") from None
        return amount


class YesNoWidget(Widget):
    TRUE = {"1", "true", "yes", "y", "x", "t", "checked"}
    FALSE = {"0", "false", "no", "n", "f", "unchecked"}

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value).casefold()
        if not text:
            return None
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(f"{cell_text(value)!r} is not yes or no (use true/false, yes/no or 1/0).")


class DateWidget(Widget):
    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None
        try:
            return datetime.fromisoformat(text).date()
        except ValueError:
            pass
        for fmt in DATE_FORMATS:
            try:
                return datetime.strptime(text, fmt).date()
            except ValueError:
                continue
        raise ValueError(f"{text!r} is not a date ({DATE_HINT}).")


class DateTimeWidget(Widget):
    """A date alone means midnight; times without a zone are in the site's time zone."""

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None
        parsed = None
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            for fmt in DATETIME_FORMATS + DATE_FORMATS:
                try:
                    parsed = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
        if parsed is None:
            raise ValueError(f"{text!r} is not a date or date and time ({DATE_HINT}, optionally with HH:MM).")
        return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class ChoiceWidget(Widget):
    """A choice by its value, its label or a CRM synonym, ignoring case and punctuation."""

    def __init__(self, choices, *, noun: str, synonyms: dict[str, str] | None = None):
        super().__init__()
        self.noun = noun
        self.labels = [label for _, label in choices]
        self.lookup = {}
        for value, label in choices:
            self.lookup[normalized(value)] = value
            self.lookup[normalized(label)] = value
        for synonym, value in (synonyms or {}).items():
            self.lookup.setdefault(normalized(synonym), value)

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None
        try:
            return self.lookup[normalized(text)]
        except KeyError:
            raise ValueError(f"Unknown {self.noun} {text!r}. Valid: {', '.join(self.labels)}.") from None


class NamedRowWidget(Widget):
    """A segment or lifecycle stage by name (case-insensitive); returns its id."""

    def __init__(self, model, *, noun: str):
        super().__init__()
        self.model = model
        self.noun = noun
        self._ids = None

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None
        if self._ids is None:
            rows = list(self.model.objects.order_by("position", "name").values_list("name", "pk"))
            self._names = [name for name, _ in rows]
            self._ids = {name.casefold(): pk for name, pk in rows}
        try:
            return self._ids[text.casefold()]
        except KeyError:
            valid = ", ".join(self._names) or f"none (this workspace has no {self.noun}s yet)"
            raise ValueError(f"Unknown {self.noun} {text!r}. Valid: {valid}.") from None


class MemberEmailWidget(Widget):
    """A user by email, who must be a member of the current tenant; returns the user id.

    A user of another tenant gets the same answer as an unknown address, so the import cannot be
    used to find out who uses the product elsewhere.
    """

    def __init__(self):
        super().__init__()
        self._ids = None

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None
        if self._ids is None:
            members = Membership.objects.filter(tenant_id=current_tenant_id()).values_list("user__email", "user_id")
            self._ids = {email.casefold(): user_id for email, user_id in members}
        try:
            return self._ids[text.casefold()]
        except KeyError:
            raise ValueError(f"{text} is not a member of this workspace.") from None


def external_ids(model) -> dict[str, int]:
    """The current tenant's rows of `model` by their CRM id (rows without one are left out)."""
    return dict(model.objects.exclude(external_id="").values_list("external_id", "pk"))


class ExternalIdWidget(Widget):
    """A row of another kind (e.g. the account of a contact) by its CRM id; returns its id."""

    def __init__(self, model, *, noun: str, hint: str = ""):
        super().__init__()
        self.model = model
        self.noun = noun
        self.hint = hint
        self._ids = None

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None
        if self._ids is None:
            self._ids = external_ids(self.model)
        try:
            return self._ids[text]
        except KeyError:
            raise ValueError(f"No {self.noun} with ID {text!r} in this workspace{self.hint}.") from None


class Pending(str):
    """The CRM id of a row that only this file creates: it is linked once the whole file is saved."""


class SelfReferenceWidget(ExternalIdWidget):
    """A row of the same kind (parent account, reports-to contact), already saved or in this file.

    `in_file` is filled by the resource before the import starts.
    """

    def __init__(self, model, *, noun: str):
        super().__init__(model, noun=noun)
        self.in_file: set[str] = set()

    def clean(self, value, row=None, **kwargs):
        text = cell_text(value)
        if not text:
            return None
        if self._ids is None:
            self._ids = external_ids(self.model)
        if text in self._ids:
            return self._ids[text]
        if text in self.in_file:
            return Pending(text)
        raise ValueError(f"No {self.noun} with ID {text!r} in this workspace or in this file.")


class ContactIdsWidget(Widget):
    """'C1; C2' -> [(contact id, account id), ...] of the current tenant's contacts."""

    def __init__(self):
        super().__init__()
        self._contacts = None

    def clean(self, value, row=None, **kwargs):
        ids = list(dict.fromkeys(part.strip() for part in cell_text(value).split(";") if part.strip()))
        if not ids:
            return []
        if self._contacts is None:
            from accounts.models import Contact

            self._contacts = {
                ext: (pk, account_id)
                for ext, pk, account_id in Contact.objects.exclude(external_id="").values_list(
                    "external_id", "pk", "account_id"
                )
            }
        unknown = [i for i in ids if i not in self._contacts]
        if unknown:
            raise ValueError(f"No contact with ID {', '.join(repr(i) for i in unknown)} in this workspace "
                             "(import the contacts first).")
        return [(i, *self._contacts[i]) for i in ids]

    def render(self, value, obj=None, **kwargs):
        return "; ".join(ext for ext, *_ in value or [])
