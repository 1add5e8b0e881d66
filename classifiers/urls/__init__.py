"""URLs by area; each area's module lists its own patterns."""

from classifiers.urls import documents, projects, schema, uploads

urlpatterns = projects.urlpatterns + schema.urlpatterns + uploads.urlpatterns + documents.urlpatterns
