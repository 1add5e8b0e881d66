"""Classifier Studio's ML engine: plain Python + numpy/scipy/scikit-learn, no Django.

The web side calls only the names re-exported here.
"""

from .artifacts import load_model, save_model
from .base import (
    KIND_BINARY,
    KIND_MULTI,
    KIND_SINGLE,
    ArtifactError,
    CancelFn,
    ProgressFn,
    TrainingCancelled,
    TrainingConfig,
)
from .compare import as_binary, disagreements, set_figures
from .engine import learning_curve, likely_mistakes, out_of_fold_scores, train
from .metrics import binomial_ci, evaluate, recommend_republish, threshold_curve
from .model import TrainedModel
from .seed import train_seed
from .splits import stratified_split

__all__ = [
    "KIND_BINARY",
    "KIND_MULTI",
    "KIND_SINGLE",
    "ArtifactError",
    "CancelFn",
    "ProgressFn",
    "TrainedModel",
    "TrainingCancelled",
    "TrainingConfig",
    "as_binary",
    "binomial_ci",
    "disagreements",
    "evaluate",
    "learning_curve",
    "likely_mistakes",
    "load_model",
    "out_of_fold_scores",
    "recommend_republish",
    "save_model",
    "set_figures",
    "stratified_split",
    "threshold_curve",
    "train",
    "train_seed",
]
