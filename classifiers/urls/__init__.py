"""URLs by area; each area's module lists its own patterns."""

from classifiers.urls import (
    api,
    deployments,
    documents,
    evaluation,
    production,
    projects,
    schema,
    tagging,
    trainable,
    training,
    uploads,
)

urlpatterns = (
    # The API first: its hot path then resolves against ten patterns, not the studio's hundred.
    api.urlpatterns
    + projects.urlpatterns
    + schema.urlpatterns
    + uploads.urlpatterns
    + documents.urlpatterns
    + training.urlpatterns
    + evaluation.urlpatterns
    + tagging.urlpatterns
    + trainable.urlpatterns
    + deployments.urlpatterns
    + production.urlpatterns
)
