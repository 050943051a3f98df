# ForecastLine / ForecastSnapshot: the nightly forecast inserts every line and snapshot row of a day at once,
# and each index costs a write per row. The single-column foreign key indexes go (tenant's is covered by the
# (tenant, day, ...) indexes; the others only sped up deleting an account, renewal, user or segment). The
# constraints stay. On PostgreSQL AlterField only drops the indexes: row level security stays as it is.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0003_account_arr'),
        ('renewals', '0001_initial'),
        ('tenancy', '0002_tenant_csms_edit_all_accounts'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='forecastline',
            name='account',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.account'),
        ),
        migrations.AlterField(
            model_name='forecastline',
            name='csm',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='forecastline',
            name='renewal',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='renewals.renewalopportunity'),
        ),
        migrations.AlterField(
            model_name='forecastline',
            name='segment',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='accounts.segment'),
        ),
        migrations.AlterField(
            model_name='forecastline',
            name='tenant',
            field=models.ForeignKey(db_index=False, editable=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.tenant'),
        ),
        migrations.AlterField(
            model_name='forecastsnapshot',
            name='csm',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='forecastsnapshot',
            name='segment',
            field=models.ForeignKey(db_index=False, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='accounts.segment'),
        ),
        migrations.AlterField(
            model_name='forecastsnapshot',
            name='tenant',
            field=models.ForeignKey(db_index=False, editable=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='tenancy.tenant'),
        ),
    ]
