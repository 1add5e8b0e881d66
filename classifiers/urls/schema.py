from django.urls import path

from classifiers.views import schema

CLASS = "projects/<slug:slug>/schema/classes/<int:class_id>"

urlpatterns = [
    path("projects/<slug:slug>/schema/", schema.project_schema, name="project_schema"),
    path("projects/<slug:slug>/schema/classes/add/", schema.class_add, name="class_add"),
    path(f"{CLASS}/edit/", schema.class_edit, name="class_edit"),
    path(f"{CLASS}/archive/", schema.class_archive, name="class_archive"),
    path(f"{CLASS}/merge/", schema.class_merge, name="class_merge"),
    path(f"{CLASS}/delete/", schema.class_delete, name="class_delete"),
    path(f"{CLASS}/move/", schema.class_move, name="class_move"),
    path("projects/<slug:slug>/schema/guidelines/", schema.project_guidelines, name="project_guidelines"),
]
