from django.db import migrations


class Migration(migrations.Migration):
    """Keys now live on the submissions (0012 copied them there)."""

    dependencies = [("cases", "0012_idempotency_records_to_submissions")]

    operations = [migrations.DeleteModel(name="IdempotencyRecord")]
