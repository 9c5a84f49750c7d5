"""The keys of Django REST framework's ``authtoken`` (kept in clear, never expiring) become
API tokens kept as their SHA-256, valid PORTGUARD_API_TOKEN_DAYS from now, so the scripts
that hold one keep working until then; their clear copies are then erased. The app is no
longer installed, so its table is read with SQL, where a database has it."""

import hashlib
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

OLD_TABLE = "authtoken_token"
DEVICE = "authtoken"


def aware(value: datetime | str) -> datetime:
    """A time as the raw cursor gives it (SQLite: naive UTC, or text) made aware."""
    value = parse_datetime(value) if isinstance(value, str) else value
    return value.replace(tzinfo=UTC) if timezone.is_naive(value) else value


def move_keys(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("portguard", "ApiToken")
    now = timezone.now()
    quote = connection.ops.quote_name
    table = quote(OLD_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('key')}, user_id, created FROM {table}")
        rows = cursor.fetchall()
        ApiToken.objects.bulk_create(
            ApiToken(
                user_id=user_id,
                device=DEVICE,
                prefix=key[:8],
                digest=hashlib.sha256(key.encode()).hexdigest(),
                created_at=aware(created),
                expires_at=now + timedelta(days=settings.PORTGUARD_API_TOKEN_DAYS),
            )
            for key, user_id, created in rows
        )
        cursor.execute(f"DELETE FROM {table}")


class Migration(migrations.Migration):
    dependencies = [
        ("portguard", "0003_api_tokens_kept_as_digests_per_device"),
    ]

    operations = [migrations.RunPython(move_keys, migrations.RunPython.noop)]
