"""Registers this area's sections on shared pages: the targets on My work (one person's, or the team's totals)."""

from csplatform.tenancy.models import Role
from success_plans.mywork_sections import register_mywork_section

from .progress import targets_progress


def mywork_targets(request, user_ids, today):
    """One person: their progress; several (a manager's "whole team"): the team row. Members who carry no book
    (ops, admin, executives) looking at their own work see no section."""
    user_ids = list(user_ids)
    alone = len(user_ids) == 1
    if alone and user_ids[0] == request.user.pk and request.membership.role not in (Role.CSM, Role.MANAGER):
        return None
    progress = targets_progress(tenant=request.tenant, user_ids=user_ids, today=today)
    if alone and progress["people"]:
        person = progress["people"][0]
        whose = "" if person["user_id"] == request.user.pk else person["name"]
        return {"targets": progress, "cells": person["cells"], "whose": whose}
    return {"targets": progress, "cells": progress["team"]["cells"], "whose": f"the team ({len(progress['people'])})"}


register_mywork_section(name="targets", order=10, template="insights/targets/_mywork.html", context=mywork_targets)
