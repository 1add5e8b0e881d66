from django.urls import path

from classifiers.views import training

urlpatterns = [
    path("projects/<slug:slug>/training/", training.training, name="training"),
    path("projects/<slug:slug>/training/start/", training.training_start, name="training_start"),
    path("projects/<slug:slug>/training/runs/<int:run_id>/", training.training_run, name="training_run"),
    path("projects/<slug:slug>/training/runs/<int:run_id>/cancel/", training.training_cancel, name="training_cancel"),
]
