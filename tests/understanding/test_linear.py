"""Issue 22: the models read as arrays (bot/understanding/linear.py) give what
scikit-learn's own prediction gives, on every message of the corpus."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.svm import LinearSVC

from bot.understanding.corpus import load_corpus
from bot.understanding.linear import Calibrated, Linear
from bot.understanding.model import Classifier, normalise, split


@pytest.fixture(scope="module")
def trained():
    """Trained on the bench's training split, so the held-out rows are unseen words."""
    corpus = load_corpus()
    train, _ = split(corpus)
    classifier = Classifier(train)
    return classifier, classifier.features([normalise(e.text) for e in corpus])


@pytest.mark.issue(22, 4)
def test_conversation_probabilities_match_scikit_learns(trained):
    classifier, seen = trained
    ours = classifier.conversations.probabilities(seen)
    theirs = classifier.conversation_model.predict_proba(seen)
    assert ours.shape == theirs.shape and ours.shape[1] == 8
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)


@pytest.mark.issue(22, 4)
def test_risk_probabilities_match_scikit_learns(trained):
    classifier, seen = trained
    ours = classifier.risk.probabilities(seen)
    theirs = classifier.risk_model.predict_proba(seen)
    assert ours.shape == theirs.shape == (seen.shape[0], 2)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-9)


@pytest.mark.issue(22, 4)
def test_topics_match_scikit_learns(trained):
    classifier, seen = trained
    assert classifier.topics is not None and classifier.topic_model is not None
    ours = classifier.topics.predict(seen)
    assert list(ours) == list(classifier.topic_model.predict(seen))


@pytest.mark.issue(22, 4)
def test_a_two_class_topic_model_matches_too(trained):
    _, seen = trained
    labels = np.array(["a" if i % 3 else "b" for i in range(seen.shape[0])])
    svm = LinearSVC(random_state=0).fit(seen, labels)
    assert list(Linear.of(svm).predict(seen)) == list(svm.predict(seen))


@pytest.mark.issue(22, 4)
def test_only_sigmoid_calibrated_linear_svms_are_read_as_arrays(trained):
    _, seen = trained
    labels = [i % 2 for i in range(seen.shape[0])]
    isotonic = CalibratedClassifierCV(LinearSVC(random_state=0), cv=3, method="isotonic")
    with pytest.raises(ValueError, match="sigmoid"):
        Calibrated.of(isotonic.fit(seen, labels))
