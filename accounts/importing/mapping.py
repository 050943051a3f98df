"""Which column of the file feeds which field: guessed from the headers, completed by the user."""

from dataclasses import dataclass

from .widgets import normalized


@dataclass(frozen=True)
class ImportColumn:
    name: str  # our field name; also accepted as a header, and the key of the mapping
    label: str  # the usual Salesforce report header, shown on the page
    aliases: tuple[str, ...] = ()
    required: bool = False
    help: str = ""
    # Read only to build another field (First Name + Last Name -> name); not a field of its own.
    composes: str = ""


class MappingIncomplete(ValueError):
    def __init__(self, missing: list[ImportColumn]):
        self.missing = missing
        super().__init__("Map a column of the file to: " + ", ".join(c.label for c in missing))


def mapping_guess(*, columns, headers) -> dict[str, str]:
    """field name -> header, for every field whose name, label or alias is a header of the file."""
    by_key: dict[str, str] = {}
    for header in headers:
        by_key.setdefault(normalized(header), header)
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for column in columns:
        for candidate in (column.name, column.label, *column.aliases):
            header = by_key.get(normalized(candidate))
            if header is not None and header not in used:
                mapping[column.name] = header
                used.add(header)
                break
    return mapping


def mapping_missing(*, columns, mapping) -> list[ImportColumn]:
    """Required fields without a column (a field built from others is satisfied by any of them)."""
    mapped = set(mapping)
    mapped |= {c.composes for c in columns if c.composes and c.name in mapping}
    return [c for c in columns if c.required and c.name not in mapped]


def mapping_checked(*, columns, headers, mapping) -> dict[str, str]:
    """The mapping without blanks; ValueError for unknown fields, unknown headers or a header used twice."""
    names = {c.name for c in columns}
    clean = {field: header for field, header in mapping.items() if header}
    unknown_fields = sorted(set(clean) - names)
    if unknown_fields:
        raise ValueError(f"Unknown field(s): {', '.join(unknown_fields)}. Fields: {', '.join(sorted(names))}.")
    unknown_headers = sorted(set(clean.values()) - set(headers))
    if unknown_headers:
        raise ValueError(f"The file has no column {', '.join(repr(h) for h in unknown_headers)}.")
    seen: dict[str, str] = {}
    for field, header in clean.items():
        if header in seen:
            raise ValueError(f"The column {header!r} is mapped to both {seen[header]} and {field}; use it once.")
        seen[header] = field
    return clean
