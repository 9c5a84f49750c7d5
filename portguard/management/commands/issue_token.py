from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portguard.tokens import DEFAULT_DEVICE, issue_token, token_days


class Command(BaseCommand):
    help = (
        "Issue a new API token for USERNAME's device and print it alone on stdout (it is shown only now: "
        "the database keeps its digest). The device's previous token is revoked."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--device",
            default=DEFAULT_DEVICE,
            help=f"Which phone, computer or system will hold it ({DEFAULT_DEVICE!r}).",
        )
        parser.add_argument("--days", type=int, help=f"Days it is valid (PORTGUARD_API_TOKEN_DAYS: {token_days()}).")

    def handle(self, *args, username: str, device: str, days: int | None, **options):
        User = get_user_model()
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not user.is_active:
            raise CommandError(f"User {username!r} is inactive: the API would refuse their token.")
        if not device.strip():
            raise CommandError("--device needs a name.")
        if days is not None and days < 1:
            raise CommandError("--days must be at least 1.")
        _token, secret = issue_token(user, device.strip(), days=days)
        self.stdout.write(secret)
