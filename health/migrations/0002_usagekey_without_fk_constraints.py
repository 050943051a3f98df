# UsageKey is ingestion's dedup index: its foreign keys keep Django's ON DELETE CASCADE but lose the database
# constraints (checked per row at COMMIT) and their single-column indexes (the unique constraint starts with
# tenant, account). ALTER only drops constraints and indexes on PostgreSQL: row level security stays as it is.
# UsageDaily: every batch adds to the rows of its accounts' day, many times a day. With free room on each page
# (fillfactor 80; existing pages keep theirs until rewritten) PostgreSQL updates them in place (HOT) instead of
# writing a new entry in each of the table's five indexes per update.

import django.db.models.deletion
from django.db import migrations, models



def usagedaily_fillfactor(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE health_usagedaily SET (fillfactor = 80)")


def usagedaily_fillfactor_reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE health_usagedaily RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_account_stage_entered_at_account_stage_recorded"),
        ("health", "0001_initial"),
        ("tenancy", "0002_tenant_csms_edit_all_accounts"),
    ]

    operations = [
        migrations.AlterField(
            model_name="usagekey",
            name="account",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.account",
            ),
        ),
        migrations.AlterField(
            model_name="usagekey",
            name="tenant",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="tenancy.tenant",
            ),
        ),
        migrations.RunPython(usagedaily_fillfactor, usagedaily_fillfactor_reset, elidable=False),
    ]
