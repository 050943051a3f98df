"""The base of the import resources: rows matched on their CRM id, inside the current tenant.

Rows are matched on `external_id`, so importing the same file again updates instead of duplicating.
Everything reads and writes through the tenant-scoped managers; new rows get the current tenant
before they are validated.
"""

from collections import OrderedDict

from django.core.exceptions import ValidationError
from import_export.fields import Field
from import_export.instance_loaders import ModelInstanceLoader
from import_export.resources import ModelResource, Resource
from tablib import Dataset

from csplatform.tenancy.context import current_tenant

from .mapping import ImportColumn
from .widgets import Pending, SelfReferenceWidget, cell_text, external_ids

ID_CHUNK = 1000  # keeps `IN (...)` lists well under SQLite's bound-parameter limit


class ExternalIdLoader(ModelInstanceLoader):
    """Loads the file's existing rows up front. A blank id never matches: rows created by hand have none."""

    def __init__(self, resource, dataset=None):
        super().__init__(resource, dataset)
        ids = sorted({cell_text(v) for v in dataset["external_id"]} - {""}) if "external_id" in dataset.headers else []
        self.instances = {}
        for start in range(0, len(ids), ID_CHUNK):
            for instance in self.get_queryset().filter(external_id__in=ids[start:start + ID_CHUNK]):
                self.instances[instance.external_id] = instance

    def get_instance(self, row):
        return self.instances.get(cell_text(row.get("external_id")))


class TenantImportResource(ModelResource):
    kind = ""
    columns: tuple[ImportColumn, ...] = ()
    # Foreign keys our widgets resolved inside the tenant: full_clean would re-check them one query
    # each, through the unscoped base manager.
    trusted_fields: tuple[str, ...] = ()

    class Meta:
        fields = ()  # built per import by build_fields(), so the lookup caches are never shared
        import_id_fields = ["external_id"]
        instance_loader_class = ExternalIdLoader
        clean_model_instances = True
        skip_unchanged = True  # honoured by our skip_row, which compares against a light snapshot ...
        skip_diff = True  # ... instead of import-export's deep copy of every row (a fifth of the time)
        report_skipped = True
        store_instance = True
        use_transactions = True

    def __init__(self, *, row_numbers=(), **kwargs):
        super().__init__(**kwargs)
        self.row_numbers = list(row_numbers)
        self.fields = OrderedDict(self.build_fields())
        self.attribute_to_column = {field.attribute: name for name, field in self.fields.items()}
        self.first_index_of: dict[str, int] = {}
        self.pending_links: list[tuple[int, str, str]] = []

    def build_fields(self):
        raise NotImplementedError

    @staticmethod
    def field(name, widget, *, attribute=None, default=None):
        extra = {} if default is None else {"default": default}
        return name, Field(attribute=attribute or name, column_name=name, widget=widget, **extra)

    @classmethod
    def column_labels(cls) -> dict[str, str]:
        return {c.name: c.label for c in cls.columns}

    @classmethod
    def dataset_from(cls, *, table, mapping) -> Dataset:
        """The file's rows under our field names, only for the mapped fields (others stay untouched)."""
        names = [c.name for c in cls.columns if c.name in mapping and not c.composes]
        index = {header: i for i, header in enumerate(table.headers)}
        positions = [index[mapping[name]] for name in names]
        dataset = Dataset(headers=names)
        for row in table.rows:
            dataset.append([row[p] for p in positions])
        return dataset

    def file_row(self, index: int) -> int:
        return self.row_numbers[index] if index < len(self.row_numbers) else index + 2

    # --- the import-export hooks -------------------------------------------------------------

    def get_queryset(self):
        return self._meta.model.objects.all()  # the tenant-scoped manager, never the unscoped one

    def init_instance(self, row=None):
        instance = self._meta.model()
        instance.tenant = current_tenant()
        return instance

    def before_import(self, dataset, **kwargs):
        external = [cell_text(v) for v in dataset["external_id"]] if "external_id" in dataset.headers else []
        for index, value in enumerate(external):
            if value:
                self.first_index_of.setdefault(value, index)
        for field in self.fields.values():
            if isinstance(field.widget, SelfReferenceWidget):
                field.widget.in_file = set(self.first_index_of)

    def import_instance(self, instance, row, **kwargs):
        errors: dict[str, list] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as error:
            for key, messages in error.update_error_dict({}).items():
                errors.setdefault(self.attribute_to_column.get(key, key), []).extend(messages)
        for column in self.columns:
            if column.required and column.name in row and column.name not in errors and not cell_text(row[column.name]):
                errors[column.name] = ["Required."]
        external_id = cell_text(row.get("external_id"))
        first = self.first_index_of.get(external_id)
        index = kwargs.get("row_number", 1) - 1
        if external_id and first is not None and first != index:
            errors.setdefault("external_id", []).append(
                f"ID {external_id!r} is also on row {self.file_row(first)}; each ID may appear once per file."
            )
        self.validate_row(instance, row, errors)
        if errors:
            raise ValidationError(errors)

    def validate_row(self, instance, row, errors):
        """Checks across fields, added to `errors` (column name -> messages)."""

    def validate_instance(self, instance, import_validation_errors=None, validate_unique=True):
        errors = dict(import_validation_errors or {})
        try:
            # Field validation only. Model constraints cost queries per row and are covered here (external
            # ids matched by the loader, duplicates in the file, validate_row); the database still enforces
            # them, and a violation becomes that row's error inside its savepoint.
            instance.full_clean(exclude={*errors, "tenant", *self.trusted_fields}, validate_unique=validate_unique,
                                validate_constraints=False)
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def after_init_instance(self, instance, new, row, **kwargs):
        if not new:
            instance._import_before = {name: field.get_value(instance) for name, field in self.fields.items()}

    def skip_row(self, instance, original, row, import_validation_errors=None):
        before = getattr(instance, "_import_before", None)
        if import_validation_errors or before is None:
            return False
        instance._import_changes = self.changes(instance, before, row)
        return not instance._import_changes

    def changes(self, instance, before: dict, row) -> list[str]:
        """The labels of the fields this row changes on an existing instance."""
        labels = self.column_labels()
        return [
            labels[name]
            for name, field in self.fields.items()
            if name in row and field.get_value(instance) != before[name]
        ]

    def before_save_instance(self, instance, row, **kwargs):
        # A reference to a row that this file creates later is linked in after_import.
        instance._pending = []
        for field in self.fields.values():
            value = getattr(instance, field.attribute, None)
            if isinstance(value, Pending):
                instance._pending.append((field.attribute, str(value)))
                setattr(instance, field.attribute, None)

    def after_save_instance(self, instance, row, **kwargs):
        self.pending_links.extend((instance.pk, attname, ref) for attname, ref in getattr(instance, "_pending", ()))

    def after_import(self, dataset, result, **kwargs):
        # Deliberately not ModelResource.after_import: it resets the id sequence to the largest id it
        # can see, and row level security hides the other tenants' rows, so the next insert of
        # another tenant would collide. We never import ids, so there is nothing to reset.
        Resource.after_import(self, dataset, result, **kwargs)
        if self.pending_links:
            model = self._meta.model
            ids = external_ids(model)
            links = [model(pk=pk, **{attname: ids[ref]}) for pk, attname, ref in self.pending_links if ref in ids]
            for attname in {attname for _, attname, _ in self.pending_links}:
                model.objects.bulk_update([m for m in links if getattr(m, attname) is not None], [attname],
                                          batch_size=ID_CHUNK)
