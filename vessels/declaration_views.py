"""Rule R6's pages: the public, login-free declaration form of a wharf and its receipt
(read and amended by whoever holds the code, nobody else), the wharf's printable QR
poster, and the declaration as inspectors see it, with *register from declaration*.

The public doors are hardened as any public door: CSRF, a size limit, a per-address
rate limit (429 with Retry-After), and no enumeration: an unknown code and a wrong one
both answer 404, and the form of a wharf reads nothing but the wharf.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from portguard.domain import DomainError
from portguard.pages import page
from portguard.ratelimit import Limit, client_address, hit
from vessels.declarations import (
    DeclarationInvalid,
    amend,
    declaration_by_receipt,
    declare,
    flags_of,
    format_receipt,
    register_from_declaration,
)
from vessels.scope import visible_wharves

from .declaration_forms import ArrivedForm, DeclarationForms
from .declaration_poster import poster_pdf
from .models import Declaration, Wharf


def declaration_limit() -> Limit:
    """Declarations and amendments sent, by the form or the API, per address."""
    return Limit(
        "declare", settings.PORTGUARD_DECLARATIONS_PER_WINDOW, settings.PORTGUARD_DECLARATION_RATE_WINDOW_SECONDS
    )


def receipt_limit() -> Limit:
    """Receipt codes tried, right or wrong, per address: too few to guess one."""
    return Limit(
        "receipt", settings.PORTGUARD_RECEIPT_LOOKUPS_PER_WINDOW, settings.PORTGUARD_DECLARATION_RATE_WINDOW_SECONDS
    )


def _refused_page(request, status: int, message: str, retry_after: int | None = None):
    response = page(request, "vessels/declaration_refused.html", {"message": message}, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _over_limit(request, limit: Limit):
    wait = hit(limit, client_address(request))
    if wait is None:
        return None
    minutes = max(1, (wait + 59) // 60)
    return _refused_page(
        request,
        429,
        _("Too many requests from your connection. Try again in %(m)d minutes.") % {"m": minutes},
        retry_after=wait,
    )


def _too_large(request):
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length <= settings.PORTGUARD_DECLARATION_MAX_BYTES:
        return None
    return _refused_page(request, 413, _("The declaration is too large to be sent."))


def _send(forms: DeclarationForms, write):
    """Run ``write(data)`` if the forms are valid; show every refusal on the forms.
    Answers what ``write`` returned, or None."""
    if not forms.is_valid():
        return None
    try:
        return write(forms.data())
    except DeclarationInvalid as exc:
        forms.add_refusal(exc)
    except DomainError as exc:
        forms.refused.append(exc.message)
    return None


@require_http_methods(["GET", "POST"])
def declare_form(request, code: str):
    """``/declare/<wharf>/``: the form a captain or agent fills in before arriving."""
    wharf = get_object_or_404(Wharf, code=code.strip().upper())
    forms = DeclarationForms()
    if request.method == "POST":
        refusal = _too_large(request)
        if refusal is not None:
            return refusal
        forms = DeclarationForms(request.POST)
        if forms.adding is None:
            refusal = _over_limit(request, declaration_limit())
            if refusal is not None:
                return refusal
        done = _send(forms, lambda data: declare(data, wharf=wharf))
        if done is not None:
            declaration, receipt = done
            link = request.build_absolute_uri(reverse("declaration-receipt", args=[format_receipt(receipt)]))
            response = page(
                request,
                "vessels/declaration_done.html",
                {"declaration": declaration, "wharf": wharf, "receipt": format_receipt(receipt), "link": link},
            )
            response["Cache-Control"] = "no-store"
            return response
    return page(
        request,
        "vessels/declare.html",
        {"wharf": wharf, "forms": forms},
        status=400 if forms.checked else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
def receipt(request, code: str):
    """``/declare/receipt/<code>/``: the declaration, for whoever holds its code; amended
    here until the vessel arrives. Unknown and wrong codes look the same: 404."""
    refusal = _over_limit(request, receipt_limit())
    if refusal is not None:
        return refusal
    declaration = declaration_by_receipt(code)
    if declaration is None:
        raise Http404
    can_amend = declaration.port_call_id is None
    forms = DeclarationForms(initial=declaration) if can_amend else None
    status = 200
    if request.method == "POST":
        if not can_amend:
            messages.error(request, _("The vessel has arrived: its declaration can no longer be amended."))
            status = 409
        else:
            refusal = _too_large(request) or _over_limit(request, declaration_limit())
            if refusal is not None:
                return refusal
            forms = DeclarationForms(request.POST)
            if _send(forms, lambda data: amend(code, data)) is not None:
                messages.success(request, _("Your declaration has been amended."))
                return redirect("declaration-receipt", code=code)
            status = 400 if forms.checked else 200
    return page(
        request,
        "vessels/declaration_receipt.html",
        {
            "declaration": declaration,
            "flags": flags_of([declaration])[0],
            "receipt": format_receipt(code),
            "forms": forms,
        },
        status=status,
    )


@login_required
def poster(request, code: str):
    """The wharf's A4 poster: a QR code of its declaration form, for the wharf's inspectors."""
    wharf = get_object_or_404(visible_wharves(request.user), code=code)
    url = request.build_absolute_uri(reverse("declare", args=[wharf.code]))
    response = HttpResponse(poster_pdf(wharf, url), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="khai-bao-y-te-{wharf.code}.pdf"'
    return response


def _visible_declaration(request, pk: int) -> Declaration:
    declarations = (
        Declaration.objects.filter(wharf__in=visible_wharves(request.user))
        .select_related("wharf", "port_call")
        .prefetch_related("people", "ports")
    )
    return get_object_or_404(declarations, pk=pk)


@login_required
def declaration(request, pk: int):
    """A declaration as the inspectors of its wharf (and the province's officers) see it."""
    found = _visible_declaration(request, pk)
    can_register = found.port_call_id is None and request.user.has_perm("vessels.add_portcall")
    return page(
        request,
        "vessels/declaration.html",
        {
            "declaration": found,
            "flags": flags_of([found])[0],
            "can_register": can_register,
            "arrived_form": ArrivedForm() if can_register else None,
        },
    )


@login_required
@require_POST
def register_arrival(request, pk: int):
    """*Register from declaration*: the port call with its crew list filled in."""
    found = _visible_declaration(request, pk)
    if not request.user.has_perm("vessels.add_portcall"):
        raise PermissionDenied
    form = ArrivedForm(request.POST)
    if not form.is_valid():
        messages.error(request, "; ".join(e for errors in form.errors.values() for e in errors))
        return redirect("declaration", pk=found.pk)
    try:
        call = register_from_declaration(request.user, found.pk, arrived_at=form.cleaned_data["arrived_at"])
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("declaration", pk=found.pk)
    messages.success(
        request,
        _("Arrival of %(vessel)s registered from its declaration, with %(n)d people on board.")
        % {"vessel": call.vessel.registration, "n": call.crew.count()},
    )
    return redirect("port-call", pk=call.pk)
