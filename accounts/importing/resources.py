"""django-import-export resources for accounts, contacts and activities, inside the current tenant.

What the columns are called (Salesforce report headers first), how each cell is read, and the checks
across fields of one row. The machinery they share (matching by CRM id, tenant, errors, references
to rows of the same file) is in base.py.
"""

from tablib import Dataset

from accounts.models import Account, Activity, ActivityContact, Contact, LifecycleStage, Segment

from .base import TenantImportResource
from .mapping import ImportColumn
from .widgets import (
    ChoiceWidget,
    ContactIdsWidget,
    DateTimeWidget,
    DateWidget,
    ExternalIdWidget,
    MemberEmailWidget,
    MoneyWidget,
    NamedRowWidget,
    SelfReferenceWidget,
    TextWidget,
    WebsiteWidget,
    WholeNumberWidget,
    YesNoWidget,
    cell_text,
)


class AccountResource(TenantImportResource):
    kind = "accounts"
    columns = (
        ImportColumn("external_id", "Account ID", ("Account ID", "Account ID (18)", "Salesforce ID", "CRM ID"),
                     required=True, help="The account's id in the CRM; a re-import updates the account by it."),
        ImportColumn("name", "Account Name", ("Account Name", "Name"), required=True),
        ImportColumn("domain", "Website", ("Website", "Domain", "Web Site")),
        ImportColumn("industry", "Industry"),
        ImportColumn("region", "Billing Country", ("Billing Country", "Region", "Billing Country/Region",
                                                   "Country")),
        ImportColumn("segment", "Segment", ("Customer Segment",), help="A segment name of this workspace."),
        ImportColumn("stage", "Lifecycle Stage", ("Lifecycle Stage", "Stage"), help="A stage name of this workspace."),
        ImportColumn("csm", "Account Owner Email", ("Account Owner Email", "Owner Email", "CSM Email", "CSM"),
                     help="The CSM; must be a member of this workspace."),
        ImportColumn("parent", "Parent Account ID", ("Parent Account ID", "Parent ID", "Parent"),
                     help="Account ID of the parent, already imported or in this file."),
        ImportColumn("licensed_seats", "Licensed Seats", ("Licensed Seats", "Seats")),
        ImportColumn("long_term_potential", "Long Term Potential", ("Potential ARR",)),
        ImportColumn("status", "Status", ("Account Status",), help="Active or Churned."),
        ImportColumn("churn_date", "Churn Date", help="Only with Status Churned."),
    )
    trusted_fields = ("segment", "stage", "csm", "parent")

    class Meta:
        model = Account

    def build_fields(self):
        return [
            self.field("external_id", TextWidget()),
            self.field("name", TextWidget()),
            self.field("domain", WebsiteWidget()),
            self.field("industry", TextWidget()),
            self.field("region", TextWidget()),
            self.field("segment", NamedRowWidget(Segment, noun="segment"), attribute="segment_id"),
            self.field("stage", NamedRowWidget(LifecycleStage, noun="stage"), attribute="stage_id"),
            self.field("csm", MemberEmailWidget(), attribute="csm_id"),
            self.field("parent", SelfReferenceWidget(Account, noun="account"), attribute="parent_id"),
            self.field("licensed_seats", WholeNumberWidget(), default=0),
            self.field("long_term_potential", MoneyWidget()),
            self.field("status", ChoiceWidget(Account.Status.choices, noun="status", synonyms={
                "Customer": Account.Status.ACTIVE, "Former Customer": Account.Status.CHURNED,
            }), default=Account.Status.ACTIVE),
            self.field("churn_date", DateWidget()),
        ]

    def validate_row(self, instance, row, errors):
        if instance.churn_date and instance.status != Account.Status.CHURNED and "churn_date" not in errors:
            errors["churn_date"] = ["A churn date needs Status 'Churned'."]
        if cell_text(row.get("parent")) and cell_text(row.get("parent")) == cell_text(row.get("external_id")):
            errors.setdefault("parent", []).append("An account cannot be its own parent.")


class ContactResource(TenantImportResource):
    kind = "contacts"
    columns = (
        ImportColumn("external_id", "Contact ID", ("Contact ID", "Contact ID (18)", "CRM ID"), required=True,
                     help="The contact's id in the CRM; a re-import updates the contact by it."),
        ImportColumn("account", "Account ID", ("Account ID", "Account ID (18)", "account_external_id"),
                     required=True, help="An account already imported."),
        ImportColumn("name", "Full Name", ("Full Name", "Contact Name", "Name"), required=True,
                     help="Or First Name and Last Name."),
        ImportColumn("first_name", "First Name", composes="name"),
        ImportColumn("last_name", "Last Name", composes="name"),
        ImportColumn("email", "Email", ("Email Address", "E-mail")),
        ImportColumn("title", "Title", ("Job Title",)),
        ImportColumn("persona", "Persona", ("Contact Role", "Role"),
                     help=", ".join(label for _, label in Contact.Persona.choices)),
        ImportColumn("influence", "Influence", help="High, Medium or Low."),
        ImportColumn("sentiment", "Sentiment", help="Positive, Neutral, Negative or Unknown."),
        ImportColumn("reports_to", "Reports To ID", ("Reports To ID", "Reports To"),
                     help="Contact ID of their manager, already imported or in this file."),
        ImportColumn("receives_surveys", "Receives Surveys", help="Yes/No, true/false or 1/0."),
    )
    trusted_fields = ("account", "reports_to")

    class Meta:
        model = Contact

    @classmethod
    def dataset_from(cls, *, table, mapping) -> Dataset:
        dataset = super().dataset_from(table=table, mapping=mapping)
        parts = [mapping[name] for name in ("first_name", "last_name") if name in mapping]
        if "name" not in mapping and parts:
            index = {header: i for i, header in enumerate(table.headers)}
            dataset.append_col(
                [" ".join(row[index[h]] for h in parts if row[index[h]]) for row in table.rows], header="name"
            )
        return dataset

    def build_fields(self):
        return [
            self.field("external_id", TextWidget()),
            self.field("account", ExternalIdWidget(Account, noun="account", hint=" (import the accounts first)"),
                       attribute="account_id"),
            self.field("name", TextWidget()),
            self.field("email", TextWidget()),
            self.field("title", TextWidget()),
            self.field("persona", ChoiceWidget(Contact.Persona.choices, noun="persona", synonyms={
                "Exec Sponsor": Contact.Persona.EXECUTIVE_SPONSOR, "Administrator": Contact.Persona.ADMIN,
                "User": Contact.Persona.END_USER,
            }), default=Contact.Persona.END_USER),
            self.field("influence", ChoiceWidget(Contact.Influence.choices, noun="influence"),
                       default=Contact.Influence.MEDIUM),
            self.field("sentiment", ChoiceWidget(Contact.Sentiment.choices, noun="sentiment"),
                       default=Contact.Sentiment.UNKNOWN),
            self.field("reports_to", SelfReferenceWidget(Contact, noun="contact"), attribute="reports_to_id"),
            self.field("receives_surveys", YesNoWidget(), default=False),
        ]

    def validate_row(self, instance, row, errors):
        if cell_text(row.get("reports_to")) and cell_text(row.get("reports_to")) == cell_text(row.get("external_id")):
            errors.setdefault("reports_to", []).append("A contact cannot report to themselves.")


class ActivityResource(TenantImportResource):
    kind = "activities"
    columns = (
        ImportColumn("external_id", "Activity ID", ("Activity ID", "Task ID", "Event ID", "CRM ID"), required=True,
                     help="The activity's id in the CRM; a re-import updates the activity by it."),
        ImportColumn("account", "Account ID", ("Account ID", "Account ID (18)", "account_external_id"),
                     required=True, help="An account already imported."),
        ImportColumn("kind", "Type", ("Type", "Activity Type", "Task Type"), required=True,
                     help=", ".join(label for _, label in Activity.Kind.choices)),
        ImportColumn("occurred_at", "Date", ("Date", "Activity Date", "Date/Time", "Start"), required=True),
        ImportColumn("subject", "Subject", required=True),
        ImportColumn("body", "Comments", ("Comments", "Description", "Full Comments", "Notes")),
        ImportColumn("minutes_spent", "Duration (min)", ("Duration (min)", "Duration", "Minutes")),
        ImportColumn("logged_by", "Assigned To Email", ("Assigned To Email", "Assigned Email", "Logged By Email"),
                     help="Must be a member of this workspace."),
        ImportColumn("contacts", "Contact IDs", ("Contact IDs", "Contact ID", "Contacts", "contact_ids"),
                     help="Contact IDs separated by semicolons, contacts of the same account."),
        ImportColumn("outcome", "Outcome"),
        ImportColumn("next_step", "Next Step"),
        ImportColumn("next_step_due", "Next Step Due", ("Next Step Due Date", "Follow-up Date")),
    )
    trusted_fields = ("account", "logged_by")  # logged_by may be empty although the model field is not blank=True

    class Meta:
        model = Activity

    def build_fields(self):
        return [
            self.field("external_id", TextWidget()),
            self.field("account", ExternalIdWidget(Account, noun="account", hint=" (import the accounts first)"),
                       attribute="account_id"),
            self.field("kind", ChoiceWidget(Activity.Kind.choices, noun="activity type", synonyms={
                "Phone": Activity.Kind.CALL, "Phone Call": Activity.Kind.CALL, "Log a Call": Activity.Kind.CALL,
                "E-mail": Activity.Kind.EMAIL, "Send Email": Activity.Kind.EMAIL, "Event": Activity.Kind.MEETING,
                "Training": Activity.Kind.TRAINING, "Onboarding": Activity.Kind.TRAINING,
                "QBR": Activity.Kind.BUSINESS_REVIEW, "EBR": Activity.Kind.BUSINESS_REVIEW,
                "Quarterly Business Review": Activity.Kind.BUSINESS_REVIEW,
            })),
            self.field("occurred_at", DateTimeWidget()),
            self.field("subject", TextWidget()),
            self.field("body", TextWidget()),
            self.field("minutes_spent", WholeNumberWidget(), default=0),
            self.field("logged_by", MemberEmailWidget(), attribute="logged_by_id"),
            self.field("contacts", ContactIdsWidget(), attribute="import_contacts"),
            self.field("outcome", TextWidget()),
            self.field("next_step", TextWidget()),
            self.field("next_step_due", DateWidget()),
        ]

    def validate_row(self, instance, row, errors):
        # The rule of accounts.services.activity_log: participants are contacts of the activity's account.
        contacts = getattr(instance, "import_contacts", None) or []
        foreign = [ext for ext, _, account_id in contacts if account_id != instance.account_id]
        if foreign and instance.account_id and "contacts" not in errors:
            errors["contacts"] = [f"{', '.join(foreign)} belong(s) to another account than this activity."]

    def changes(self, instance, before, row):
        labels = [label for label in super().changes(instance, before, row) if label != "Contact IDs"]
        if "contacts" in row:
            wanted = {pk for _, pk, _ in getattr(instance, "import_contacts", None) or []}
            existing = ActivityContact.objects.filter(activity_id=instance.pk).values_list("contact_id", flat=True)
            if wanted != set(existing):
                labels.append("Contact IDs")
        return labels

    def after_save_instance(self, instance, row, **kwargs):
        super().after_save_instance(instance, row, **kwargs)
        contacts = getattr(instance, "import_contacts", None)
        if contacts is None:
            return  # no Contact IDs column: the participants stay as they are
        wanted = {pk for _, pk, _ in contacts}
        existing = set(ActivityContact.objects.filter(activity=instance).values_list("contact_id", flat=True))
        if existing - wanted:
            ActivityContact.objects.filter(activity=instance, contact_id__in=existing - wanted).delete()
        ActivityContact.objects.bulk_create(
            [ActivityContact(activity=instance, contact_id=pk) for pk in sorted(wanted - existing)]
        )


RESOURCES: dict[str, type[TenantImportResource]] = {
    r.kind: r for r in (AccountResource, ContactResource, ActivityResource)
}
KIND_CHOICES = [("accounts", "Accounts"), ("contacts", "Contacts"), ("activities", "Activities")]
