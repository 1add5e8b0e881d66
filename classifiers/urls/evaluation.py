from django.urls import path

from classifiers.views import evaluation

VERSION = "projects/<slug:slug>/models/<int:version_id>/"

urlpatterns = [
    path(VERSION, evaluation.model_version, name="model_version"),
    path(f"{VERSION}try/", evaluation.model_version_try, name="model_version_try"),
    path(
        f"{VERSION}documents/<int:document_id>/explain/",
        evaluation.model_version_explain,
        name="model_version_explain",
    ),
    path(f"{VERSION}delete/", evaluation.model_version_delete, name="model_version_delete"),
    path(f"{VERSION}mistakes/", evaluation.likely_mistakes, name="likely_mistakes"),
    path(f"{VERSION}mistakes/<int:document_id>/confirm/", evaluation.mistake_confirm, name="mistake_confirm"),
    path(f"{VERSION}mistakes/<int:document_id>/retag/", evaluation.mistake_retag, name="mistake_retag"),
]
