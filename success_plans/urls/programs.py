from django.urls import path

from ..views import advocacy, docs, feedback, playbooks

app_name = "programs"

urlpatterns = [
    # playbooks
    path("playbooks/", playbooks.playbook_list, name="playbooks"),
    path("playbooks/new/", playbooks.playbook_edit, name="playbook_new"),
    path("playbooks/<int:playbook_id>/", playbooks.playbook_detail, name="playbook"),
    path("playbooks/<int:playbook_id>/edit/", playbooks.playbook_edit, name="playbook_edit"),
    path("playbooks/<int:playbook_id>/apply/", playbooks.playbook_apply_to_account, name="playbook_apply"),
    # advocacy
    path("advocacy/", advocacy.advocacy_list, name="advocacy"),
    path("advocacy/new/", advocacy.advocacy_create, name="advocacy_new"),
    path("advocacy/per-csm/", advocacy.advocacy_per_csm, name="advocacy_per_csm"),
    # product feedback
    path("feedback/", feedback.feedback_list, name="feedback"),
    path("feedback/new/", feedback.feedback_create, name="feedback_new"),
    path("feedback/<int:feedback_id>/", feedback.feedback_detail, name="feedback_detail"),
    path("feedback/<int:feedback_id>/accounts/", feedback.feedback_account_add, name="feedback_account_add"),
    path("feedback/<int:feedback_id>/accounts/<int:account_id>/remove/", feedback.feedback_account_remove,
         name="feedback_account_remove"),
    path("feedback/<int:feedback_id>/status/", feedback.feedback_status, name="feedback_status"),
    # process documents
    path("docs/", docs.doc_list, name="docs"),
    path("docs/new/", docs.doc_edit, name="doc_new"),
    path("docs/<int:doc_id>/", docs.doc_detail, name="doc"),
    path("docs/<int:doc_id>/edit/", docs.doc_edit, name="doc_edit"),
    path("docs/<int:doc_id>/approve/", docs.doc_approve, name="doc_approve"),
]
