"""Global search: the results page, and the suggestions the topbar box fetches (htmx) as one types.

Both are the same URL and the same reads: four queries (one per kind) whatever the size of the book.
"""

from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from csplatform.tenancy.pages import tenant_page

from ..search.results import SECTION_ROWS, SUGGESTION_ROWS, search
from ..search.selectors import MIN_LENGTH, clean_query

SUGGESTIONS_TARGET = "search-suggestions"  # the id of the box's suggestion list (templates/search/_box.html)


@require_GET
@tenant_page("accounts.view")
def results(request):
    query = clean_query(request.GET.get("q"))
    suggesting = bool(request.htmx) and request.htmx.target == SUGGESTIONS_TARGET
    too_short = 0 < len(query) < MIN_LENGTH
    sections = []
    if query and not too_short:
        sections = search(
            slug=request.tenant.slug,
            role=request.membership.role,
            q=query,
            today=timezone.localdate(),
            rows=SUGGESTION_ROWS if suggesting else SECTION_ROWS,
        )
    context = {
        "search_query": query,
        "too_short": too_short,
        "min_length": MIN_LENGTH,
        "sections": sections,
        "total_shown": sum(len(s.hits) for s in sections),
    }
    template = "search/_suggestions.html" if suggesting else "search/results.html"
    response = render(request, template, context)
    patch_vary_headers(response, ("HX-Request", "HX-Target"))
    return response
