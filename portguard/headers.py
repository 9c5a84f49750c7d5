"""The Permissions-Policy header, which Django's SecurityMiddleware does not send: every
powerful browser feature PortGuard does not use is switched off for its pages and for
anything they might embed. Notifications, vibration and Web Audio are not controlled by
it; the screening sheet's kit timer and the dashboards keep them."""

from django.conf import settings


class PermissionsPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        policy = settings.PORTGUARD_PERMISSIONS_POLICY
        if policy:
            response.setdefault("Permissions-Policy", policy)
        return response
