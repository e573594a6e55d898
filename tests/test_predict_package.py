"""profiling.predict as a package: one contract for the learned model and every baseline, and
results saved before the split still load (pickles name ``profiling.predict.<Class>``)."""

from __future__ import annotations

import pickle

import pytest

from profiling import predict as P
from profiling.predict.models import ScoreModel


@pytest.mark.parametrize("task", ["purchase", "churn"])
def test_every_model_of_a_task_follows_the_one_contract_under_its_own_name(task):
    models = P.make_models(task)
    assert list(models) == [P.LEARNED, *P.BASELINES]
    for name, model in models.items():
        assert isinstance(model, ScoreModel)
        assert model.name == name
        assert name in P.MODEL_LABELS and name in P.MODEL_INPUTS


@pytest.mark.parametrize("cls", ["Predictions", "TaskResult", "CutoffPlan"])
def test_a_class_pickled_under_its_old_package_path_still_loads(cls):
    # protocol 0 names a global as "c<module>\n<name>\n": the path results saved before the
    # split carry
    blob = f"cprofiling.predict\n{cls}\n.".encode()
    assert pickle.loads(blob) is getattr(P, cls)  # noqa: S301 - a hand-made pickle of a class path
