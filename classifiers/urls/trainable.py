from django.urls import path

from classifiers.views import trainable

urlpatterns = [
    path("projects/<slug:slug>/classifier/", trainable.classifier, name="classifier"),
    path("projects/<slug:slug>/classifier/publish/", trainable.classifier_publish, name="classifier_publish"),
    path("projects/<slug:slug>/classifier/threshold/", trainable.classifier_threshold, name="classifier_threshold"),
    path("projects/<slug:slug>/review/", trainable.review, name="review"),
    path("projects/<slug:slug>/review/answer/", trainable.review_answer, name="review_answer"),
]
