import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("health", "0004_usage_monthly_partitions")]

    operations = [
        migrations.AddField(
            model_name="pendingrefresh",
            name="touched_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
    ]
