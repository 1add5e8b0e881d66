from django.urls import path

from classifiers.views import dashboard, documents

urlpatterns = [
    path("projects/<slug:slug>/documents/", documents.document_list, name="document_list"),
    path("projects/<slug:slug>/documents/bulk/", documents.document_bulk, name="document_bulk"),
    path(
        "projects/<slug:slug>/documents/<int:document_id>/", documents.document_detail, name="document_detail"
    ),
    path(
        "projects/<slug:slug>/documents/<int:document_id>/original/",
        documents.document_original,
        name="document_original",
    ),
    path(
        "projects/<slug:slug>/documents/<int:document_id>/thumbnail.png",
        documents.document_thumbnail,
        name="document_thumbnail",
    ),
    path(
        "projects/<slug:slug>/documents/<int:document_id>/set/", documents.document_set, name="document_set"
    ),
    path(
        "projects/<slug:slug>/documents/<int:document_id>/tags/", documents.document_tag, name="document_tag"
    ),
    path("projects/<slug:slug>/dashboard/", dashboard.dataset_dashboard, name="dataset_dashboard"),
    path("projects/<slug:slug>/dashboard/test-split/", dashboard.test_split, name="test_split"),
]
