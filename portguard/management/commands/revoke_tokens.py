from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from portguard.models import ApiToken
from portguard.tokens import revoke


class Command(BaseCommand):
    help = "Revoke USERNAME's API tokens: every device's, or one device's with --device (a lost phone)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--device", help="Only this device's token.")

    def handle(self, *args, username: str, device: str | None, **options):
        User = get_user_model()
        try:
            user = User.objects.get_by_natural_key(username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        tokens = ApiToken.objects.filter(user=user)
        if device is not None:
            tokens = tokens.filter(device=device)
        count = revoke(tokens)
        where = f"device {device!r}" if device is not None else "every device"
        self.stdout.write(f"{count} token(s) of {username} revoked ({where}).")
