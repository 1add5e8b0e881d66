from django.urls import path

from classifiers.views import activity, projects

urlpatterns = [
    path("projects/", projects.project_list, name="project_list"),
    path("projects/new/", projects.project_create, name="project_create"),
    path("projects/<slug:slug>/", projects.project_overview, name="project_overview"),
    path("projects/<slug:slug>/settings/", projects.project_settings, name="project_settings"),
    path("projects/<slug:slug>/delete/", projects.project_delete, name="project_delete"),
    path("projects/<slug:slug>/members/add/", projects.member_add, name="member_add"),
    path("projects/<slug:slug>/members/<int:membership_id>/role/", projects.member_role, name="member_role"),
    path(
        "projects/<slug:slug>/members/<int:membership_id>/remove/",
        projects.member_remove,
        name="member_remove",
    ),
    path("projects/<slug:slug>/activity/", activity.project_activity, name="project_activity"),
]
