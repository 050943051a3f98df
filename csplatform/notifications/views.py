"""Pages: the notifications list (and what the bell opens), and My settings.

Every lookup is of the signed-in member's own notifications in the current tenant: anyone else's id, in this
tenant or another, answers 404."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from csplatform.tenancy.pages import tenant_page

from . import selectors, services
from .digests import digests_for_role
from .forms import MySettingsForm
from .paths import in_tenant


@require_GET
@tenant_page("tenant.view")
def notification_list(request):
    page = Paginator(selectors.notifications_for(user=request.user), selectors.PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    for notification in page.object_list:
        notification.target = in_tenant(request.tenant.slug, notification.url)
    return render(request, "notifications/list.html", {"page": page})


@require_GET
@tenant_page("tenant.view")
def notification_open(request, notification_id):
    """Opening a notification marks it read and goes to what it is about."""
    notification = get_object_or_404(selectors.notifications_for(user=request.user), pk=notification_id)
    services.notifications_mark_read(user=request.user, ids=[notification.pk])
    return redirect(in_tenant(request.tenant.slug, notification.url))


@require_POST
@tenant_page("tenant.view")
def notifications_read_all(request):
    marked = services.notifications_mark_read(user=request.user)
    messages.success(
        request, f"{marked} notification{'s' if marked != 1 else ''} marked read." if marked else "Nothing was unread."
    )
    return redirect("notifications:list", tenant_slug=request.tenant.slug)


@never_cache
@require_GET
@tenant_page("tenant.view")
def bell(request):
    """The bell alone, for htmx to refresh the count every minute."""
    return render(request, "notifications/_bell.html")


@require_http_methods(["GET", "POST"])
@tenant_page("tenant.view")
def my_settings(request):
    membership = request.membership
    digests = digests_for_role(membership.role)
    initial = {
        "time_zone": request.user.time_zone,
        **{d.preference: getattr(membership, d.preference) for d in digests},
    }
    form = MySettingsForm(request.POST if request.method == "POST" else None, initial=initial, digests=digests)
    if form.is_bound and form.is_valid():
        services.my_settings_update(
            membership=membership,
            time_zone=form.cleaned_data["time_zone"],
            digests={d.preference: form.cleaned_data[d.preference] for d in digests},
        )
        messages.success(request, "Your settings are saved.")
        return redirect("notifications:my_settings", tenant_slug=request.tenant.slug)
    return render(
        request,
        "notifications/my_settings.html",
        {"form": form, "digests": digests},
        status=400 if form.errors else 200,
    )
