"""The trained models as plain arrays, read with one matrix product.

scikit-learn checks its input again on every call, once per calibrated fold: for one
message at a time that checking cost more than the arithmetic (about 4 ms of a 4.5 ms
read). What a calibrated linear SVM computes is small: per fold, a linear score per class,
a sigmoid per score (Platt's a and b), the fold's scores normalised to sum to one, then
the mean over the folds. `Calibrated` holds those numbers, taken from the fitted
scikit-learn model, and gives the same probabilities (tests/understanding compares them
with `predict_proba` on the whole corpus).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import spmatrix
from scipy.special import expit
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import LinearSVC

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Calibrated:
    """A fitted `CalibratedClassifierCV(LinearSVC, method="sigmoid", ensemble=True)`."""

    weights: Floats  # (features, columns): every fold's one-vs-rest coefficients side by side
    intercepts: Floats  # (columns,)
    a: Floats  # (columns,) each column's sigmoid: p = expit(-(a * score + b))
    b: Floats
    classes: NDArray[np.intp]  # (columns,) the class each column scores
    folds: tuple[slice, ...]  # each fold's columns
    n_classes: int

    @classmethod
    def of(cls, model: CalibratedClassifierCV) -> Calibrated:
        n_classes = len(model.classes_)
        weights: list[Floats] = []
        intercepts: list[Floats] = []
        a: list[list[float]] = []
        b: list[list[float]] = []
        classes: list[NDArray[np.intp]] = []
        folds: list[slice] = []
        for fold in model.calibrated_classifiers_:
            if fold.method != "sigmoid" or not isinstance(fold.estimator, LinearSVC):
                raise ValueError("only sigmoid-calibrated linear SVMs can be read as arrays")
            svm = fold.estimator
            # The classes this fold saw, as positions among all the model's classes; a
            # two-class model scores only the second class (sklearn's convention).
            seen = np.searchsorted(model.classes_, svm.classes_)
            seen = seen[1:] if n_classes == 2 else seen
            start = sum(len(seen_before) for seen_before in classes)
            folds.append(slice(start, start + len(seen)))
            weights.append(np.atleast_2d(svm.coef_))
            intercepts.append(np.atleast_1d(svm.intercept_))
            a.append([calibrator.a_ for calibrator in fold.calibrators])
            b.append([calibrator.b_ for calibrator in fold.calibrators])
            classes.append(seen)
        return cls(
            weights=np.ascontiguousarray(np.vstack(weights).T, dtype=np.float64),
            intercepts=np.concatenate(intercepts).astype(np.float64),
            a=np.concatenate(a).astype(np.float64),
            b=np.concatenate(b).astype(np.float64),
            classes=np.concatenate(classes).astype(np.intp),
            folds=tuple(folds),
            n_classes=n_classes,
        )

    def probabilities(self, seen: spmatrix) -> Floats:
        """(messages, classes) probabilities, as `predict_proba` gives them."""
        scores = np.asarray(seen @ self.weights) + self.intercepts
        calibrated = expit(-(self.a * scores + self.b))
        mean = np.zeros((scores.shape[0], self.n_classes))
        for columns in self.folds:
            fold = np.zeros_like(mean)
            fold[:, self.classes[columns]] = calibrated[:, columns]
            if self.n_classes == 2:
                fold[:, 0] = 1.0 - fold[:, 1]
            else:
                total = fold.sum(axis=1, keepdims=True)
                uniform = np.full_like(fold, 1 / self.n_classes)  # every score was zero
                fold = np.divide(fold, total, out=uniform, where=total != 0)
            fold[(fold > 1.0) & (fold <= 1.0 + 1e-5)] = 1.0
            mean += fold
        return mean / len(self.folds)


@dataclass(frozen=True)
class Linear:
    """A fitted `LinearSVC`: the class with the highest score."""

    weights: Floats  # (features, columns)
    intercepts: Floats
    classes: NDArray[np.str_]

    @classmethod
    def of(cls, svm: LinearSVC) -> Linear:
        return cls(
            np.ascontiguousarray(np.atleast_2d(svm.coef_).T, dtype=np.float64),
            np.atleast_1d(svm.intercept_).astype(np.float64),
            np.asarray(svm.classes_),
        )

    def predict(self, seen: spmatrix) -> NDArray[np.str_]:
        scores = np.asarray(seen @ self.weights) + self.intercepts
        if len(self.classes) == 2:
            return self.classes[(scores[:, 0] > 0).astype(np.intp)]
        return self.classes[scores.argmax(axis=1)]
