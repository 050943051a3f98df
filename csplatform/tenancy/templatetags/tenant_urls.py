from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def turl(context, viewname, **kwargs):
    """`{% turl 'jobs:run' run_id=run.id %}`: reverse a page of the current tenant without its slug."""
    return reverse(viewname, kwargs={"tenant_slug": context["request"].tenant.slug, **kwargs})
