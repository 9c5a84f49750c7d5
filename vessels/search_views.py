"""The header's search page: what ``vessels.search`` finds, as links."""

from django.contrib.auth.decorators import login_required

from portguard.pages import page

from .search import MIN_LENGTH, search


@login_required
def search_page(request):
    results = search(request.user, request.GET.get("q", ""))
    return page(request, "vessels/search.html", {"results": results, "min_length": MIN_LENGTH})
