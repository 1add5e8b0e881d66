"""The HTTP API (token-authenticated, JSON only) and Azure's analyze-text jobs paths."""

from django.urls import path

from classifiers.api import views

urlpatterns = [
    path("api/v1/openapi.json", views.openapi_document, name="api_openapi"),
    path("api/v1/projects/<slug:slug>/deployments", views.deployments, name="api_deployments"),
    path("api/v1/projects/<slug:slug>/deployments/<str:slot>", views.deployment, name="api_deployment"),
    path("api/v1/projects/<slug:slug>/deployments/<str:slot>/classify", views.classify, name="api_classify"),
    path("api/v1/projects/<slug:slug>/deployments/<str:slot>/jobs", views.job_submit, name="api_job_submit"),
    path("api/v1/projects/<slug:slug>/jobs/<uuid:job_id>", views.job_status, name="api_job"),
    path("api/v1/projects/<slug:slug>/jobs/<uuid:job_id>/cancel", views.job_cancel, name="api_job_cancel"),
    path("language/analyze-text/jobs", views.azure_submit, name="azure_job_submit"),
    path("language/analyze-text/jobs/<uuid:job_id>", views.azure_status, name="azure_job"),
    path("language/analyze-text/jobs/<uuid:job_id>:cancel", views.azure_cancel, name="azure_job_cancel"),
]
