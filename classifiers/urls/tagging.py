from django.urls import path

from classifiers.views import tagging

urlpatterns = [
    path("projects/<slug:slug>/tagging/", tagging.tagging, name="tagging"),
    path("projects/<slug:slug>/tagging/queue/", tagging.tagging_queue, name="tagging_queue"),
    path("projects/<slug:slug>/tagging/act/", tagging.tagging_act, name="tagging_act"),
    path("projects/<slug:slug>/tagging/history/", tagging.tagging_history, name="tagging_history"),
    path("projects/<slug:slug>/tagging/assign/", tagging.tagging_assign, name="tagging_assign"),
    path("projects/<slug:slug>/tagging/settings/", tagging.tagging_settings, name="tagging_settings"),
    path("projects/<slug:slug>/tagging/agreement/", tagging.tagging_agreement, name="tagging_agreement"),
    path("projects/<slug:slug>/tagging/conflicts/", tagging.tagging_conflicts, name="tagging_conflicts"),
    path(
        "projects/<slug:slug>/tagging/conflicts/<int:document_id>/resolve/",
        tagging.tagging_resolve,
        name="tagging_resolve",
    ),
    path("projects/<slug:slug>/tagging/mine/", tagging.tagging_my_tags, name="tagging_my_tags"),
]
