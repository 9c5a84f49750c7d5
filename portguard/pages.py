"""Page shortcuts every app's views share."""

from django.shortcuts import render

from .roles import ROLE_LABELS, role_of


def page(request, template: str, context: dict, status: int = 200):
    """``render`` with what the base template shows of the user (their role)."""
    role = role_of(request.user)
    return render(request, template, {"role_label": ROLE_LABELS.get(role, ""), **context}, status=status)
