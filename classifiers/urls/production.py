from django.urls import path

from classifiers.views import production, retraining

urlpatterns = [
    path("explorer/", production.content_explorer, name="content_explorer"),
    path("labels/", production.label_list, name="label_list"),
    path("labels/<int:label_id>/", production.label_edit, name="label_edit"),
    path("projects/<slug:slug>/explorer/feedback/", production.explorer_feedback, name="explorer_feedback"),
    path("projects/<slug:slug>/feedback/", production.feedback_queue, name="feedback_queue"),
    path(
        "projects/<slug:slug>/documents/<int:document_id>/feedback/",
        production.feedback_give,
        name="feedback_give",
    ),
    path(
        "projects/<slug:slug>/feedback/<int:feedback_id>/withdraw/",
        production.feedback_withdraw,
        name="feedback_withdraw",
    ),
    path("projects/<slug:slug>/labels/", production.label_policies, name="label_policies"),
    path(
        "projects/<slug:slug>/labels/<int:policy_id>/delete/",
        production.label_policy_delete,
        name="label_policy_delete",
    ),
    path("projects/<slug:slug>/production/status/", production.production_status, name="production_status"),
    path("projects/<slug:slug>/retraining/", retraining.retraining, name="retraining"),
    path(
        "projects/<slug:slug>/retraining/<int:comparison_id>/items/<int:document_id>/",
        retraining.retraining_item,
        name="retraining_item",
    ),
    path(
        "projects/<slug:slug>/retraining/<int:comparison_id>/decide/",
        retraining.retraining_decide,
        name="retraining_decide",
    ),
    path("projects/<slug:slug>/retraining/retrain/", retraining.retrain_now, name="retrain_now"),
    path("projects/<slug:slug>/retraining/settings/", retraining.retraining_settings, name="retraining_settings"),
    path("projects/<slug:slug>/history/", retraining.publish_history, name="publish_history"),
    path("projects/<slug:slug>/history/<int:version_id>/rollback/", retraining.rollback, name="rollback"),
]
