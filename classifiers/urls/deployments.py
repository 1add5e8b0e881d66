from django.urls import path

from classifiers.views import deployments as views

P = "projects/<slug:slug>"
urlpatterns = [
    path(f"{P}/deployments/", views.deployments, name="deployments"),
    path(f"{P}/deployments/deploy/", views.deployment_deploy, name="deployment_deploy"),
    path(f"{P}/deployments/swap/", views.deployment_swap, name="deployment_swap"),
    path(f"{P}/deployments/try/", views.deployment_try, name="deployment_try"),
    path(f"{P}/deployments/log/", views.deployment_log, name="deployment_log"),
    path(f"{P}/deployments/log/texts/", views.deployment_log_texts, name="deployment_log_texts"),
    path(f"{P}/deployments/<int:deployment_id>/", views.deployment_detail, name="deployment_detail"),
    path(f"{P}/deployments/<int:deployment_id>/delete/", views.deployment_delete, name="deployment_delete"),
    path(
        f"{P}/deployments/<int:deployment_id>/rollback/",
        views.deployment_rollback,
        name="deployment_rollback",
    ),
    path(f"{P}/api/", views.api_page, name="api_page"),
    path(f"{P}/api/tokens/", views.api_token_create, name="api_token_create"),
    path(f"{P}/api/tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
