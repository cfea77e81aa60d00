"""Specification of mini_torch.viz: headless PNG plots and the confusion-matrix helper."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from mini_torch import viz

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_is_png(path: Path) -> None:
    assert path.is_file(), f"{path} was not written"
    data = path.read_bytes()
    assert len(data) > len(PNG_SIGNATURE)
    assert data[: len(PNG_SIGNATURE)] == PNG_SIGNATURE


def two_class_points(n: int = 30) -> tuple[np.ndarray, np.ndarray]:
    points = np.random.default_rng(0).uniform(-1.0, 1.0, size=(n, 2)).astype(np.float32)
    return points, (points[:, 0] > 0).astype(np.int64)


# --------------------------------------------------------------------------- plot_history

def test_plot_history_of_one_curve_writes_a_png_and_returns_its_path(tmp_path):
    target = tmp_path / "loss.png"
    result = viz.plot_history([1.0, 0.5, 0.25, 0.2], target)
    assert result == target and isinstance(result, Path)
    assert_is_png(target)


def test_plot_history_of_losses_and_accuracies_writes_a_png(tmp_path):
    history = {"train loss": [1.0, 0.6, 0.4], "val loss": [1.1, 0.7, 0.5],
               "train acc": [0.5, 0.7, 0.9], "val accuracy": [0.4, 0.6, 0.8]}
    result = viz.plot_history(history, tmp_path / "history.png", title="run 1")
    assert_is_png(result)


def test_plot_history_accepts_numpy_scalars_from_the_losses(tmp_path):
    losses = [np.float32(0.9), np.array(0.5, dtype=np.float32), 0.25]
    assert_is_png(viz.plot_history(losses, tmp_path / "loss.png"))


def test_plot_history_creates_missing_parent_folders(tmp_path):
    target = tmp_path / "runs" / "today" / "loss.png"
    assert_is_png(viz.plot_history({"acc": [0.5, 0.9]}, target))


def test_plot_history_accepts_a_str_path_and_appends_png_when_no_suffix(tmp_path):
    result = viz.plot_history([1.0, 0.5], str(tmp_path / "curve"))
    assert result == tmp_path / "curve.png"
    assert_is_png(result)


def test_plot_history_rejects_a_non_png_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"\.png"):
        viz.plot_history([1.0, 0.5], tmp_path / "curve.jpg")
    assert not (tmp_path / "curve.jpg").exists()


@pytest.mark.parametrize(
    ("history", "error"),
    [({}, ValueError), ([], ValueError), ([[1.0, 2.0], [3.0, 4.0]], ValueError),
     ("loss", TypeError), ({"loss": ["a", "b"]}, TypeError)],
)
def test_plot_history_rejects_histories_that_are_not_curves(tmp_path, history, error):
    with pytest.raises(error, match="plot_history"):
        viz.plot_history(history, tmp_path / "bad.png")


# --------------------------------------------------------------------------- decision boundary

@pytest.mark.parametrize(
    "predict",
    [
        pytest.param(lambda x: np.stack([-x[:, 0], x[:, 0]], axis=1), id="scores (M, 2)"),
        pytest.param(lambda x: x[:, 0], id="logits (M,)"),
        pytest.param(lambda x: x[:, :1], id="logits (M, 1)"),
        pytest.param(lambda x: (x[:, 0] > 0).astype(np.int64), id="labels (M,)"),
        pytest.param(lambda x: x[:, 0] > 0, id="bool labels (M,)"),
    ],
)
def test_plot_decision_boundary_accepts_every_prediction_form(tmp_path, predict):
    X, y = two_class_points()
    result = viz.plot_decision_boundary(predict, X, y, tmp_path / "boundary.png", resolution=30)
    assert result == tmp_path / "boundary.png"
    assert_is_png(result)


def test_plot_decision_boundary_draws_three_classes_with_one_hot_labels(tmp_path):
    X, _ = two_class_points(45)
    labels = np.digitize(X[:, 0], [-1 / 3, 1 / 3])
    one_hot = np.eye(3, dtype=np.float32)[labels]
    result = viz.plot_decision_boundary(lambda x: np.stack([-x[:, 0], 0 * x[:, 0], x[:, 0]], 1),
                                        X, one_hot, tmp_path / "three.png", resolution=30)
    assert_is_png(result)


def test_plot_decision_boundary_feeds_predict_a_grid_in_the_dtype_of_X(tmp_path):
    X, y = two_class_points()
    seen = []

    def predict(points):
        seen.append((points.shape, points.dtype))
        return points[:, 0]

    viz.plot_decision_boundary(predict, X, y, tmp_path / "grid.png", resolution=25)
    assert seen == [((25 * 25, 2), np.dtype(np.float32))]


def test_plot_decision_boundary_grid_covers_the_data(tmp_path):
    X, y = two_class_points()
    grids = []

    def predict(points):
        grids.append(points)
        return points[:, 0]

    viz.plot_decision_boundary(predict, X, y, tmp_path / "grid.png", resolution=25)
    assert np.all(grids[0].min(axis=0) < X.min(axis=0))
    assert np.all(grids[0].max(axis=0) > X.max(axis=0))


def test_plot_decision_boundary_rejects_mismatched_lengths(tmp_path):
    X, y = two_class_points(30)
    with pytest.raises(ValueError, match=r"X has 30 samples but y has 29"):
        viz.plot_decision_boundary(lambda x: x[:, 0], X, y[:29], tmp_path / "bad.png")


def test_plot_decision_boundary_rejects_points_that_are_not_2d(tmp_path):
    X = np.zeros((10, 3), dtype=np.float32)
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        viz.plot_decision_boundary(lambda x: x[:, 0], X, np.zeros(10, np.int64),
                                   tmp_path / "bad.png")


def test_plot_decision_boundary_rejects_a_predict_with_the_wrong_number_of_rows(tmp_path):
    X, y = two_class_points()
    with pytest.raises(ValueError, match="predict"):
        viz.plot_decision_boundary(lambda x: x[:10, 0], X, y, tmp_path / "bad.png",
                                   resolution=20)


def test_plot_decision_boundary_rejects_a_predict_that_is_not_callable(tmp_path):
    X, y = two_class_points()
    with pytest.raises(TypeError, match="predict"):
        viz.plot_decision_boundary(np.zeros(3), X, y, tmp_path / "bad.png")


# --------------------------------------------------------------------------- image grid

@pytest.mark.parametrize(
    "shape", [(10, 784), (10, 28, 28), (10, 64), (10, 5, 7)], ids=str
)
def test_plot_images_accepts_flat_square_and_2d_images(tmp_path, shape):
    images = np.random.default_rng(0).random(shape).astype(np.float32)
    result = viz.plot_images(images, np.arange(10), tmp_path / "images.png", ncols=4)
    assert result == tmp_path / "images.png"
    assert_is_png(result)


def test_plot_images_with_one_hot_labels_and_score_predictions(tmp_path):
    images = np.random.default_rng(0).random((12, 784))
    labels = np.eye(10)[np.arange(12) % 10]
    scores = np.random.default_rng(1).random((12, 10))
    result = viz.plot_images(images, labels, tmp_path / "images.png", predictions=scores,
                             title="test digits")
    assert_is_png(result)


def test_plot_images_rejects_flat_images_of_non_square_length(tmp_path):
    with pytest.raises(ValueError, match="50"):
        viz.plot_images(np.zeros((4, 50)), np.arange(4), tmp_path / "bad.png")


def test_plot_images_rejects_labels_of_another_length(tmp_path):
    with pytest.raises(ValueError, match="labels"):
        viz.plot_images(np.zeros((4, 784)), np.arange(3), tmp_path / "bad.png")


def test_plot_images_rejects_predictions_of_another_length(tmp_path):
    with pytest.raises(ValueError, match="predictions"):
        viz.plot_images(np.zeros((4, 784)), np.arange(4), tmp_path / "bad.png",
                        predictions=np.arange(5))


def test_plot_images_takes_captions_for_images_without_classes(tmp_path):
    images = np.random.default_rng(0).random((6, 784))
    result = viz.plot_images(images, None, tmp_path / "samples.png",
                             captions=[f"sample {i}" for i in range(6)])
    assert_is_png(result)


def test_plot_images_needs_one_caption_per_image(tmp_path):
    with pytest.raises(ValueError, match="3 captions for 4 images"):
        viz.plot_images(np.zeros((4, 784)), None, tmp_path / "bad.png", captions=["a"] * 3)


def test_plot_images_needs_labels_or_captions(tmp_path):
    with pytest.raises(ValueError, match="captions"):
        viz.plot_images(np.zeros((4, 784)), None, tmp_path / "bad.png")


# --------------------------------------------------------------------------- confusion matrix

def test_confusion_matrix_counts_a_hand_worked_example():
    y_true = [0, 0, 1, 1, 2, 2, 2]
    y_pred = [0, 1, 1, 1, 2, 0, 2]
    # true 0: predicted 0 once, 1 once; true 1: predicted 1 twice;
    # true 2: predicted 2 twice, 0 once.
    expected = np.array([[1, 1, 0],
                         [0, 2, 0],
                         [1, 0, 2]])
    result = viz.confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(result, expected)
    assert result.dtype == np.int64


def test_confusion_matrix_is_the_one_in_functional_beside_accuracy():
    from mini_torch import functional as F

    assert viz.confusion_matrix is F.confusion_matrix
    y_true, y_pred = np.array([0, 2, 1, 2]), np.array([0, 1, 1, 2])
    counts = F.confusion_matrix(y_true, y_pred)
    # accuracy is trace / total, whichever form the labels come in
    assert np.trace(counts) / counts.sum() == F.accuracy(np.eye(3)[y_pred], np.eye(3)[y_true])


def test_confusion_matrix_matches_a_per_sample_count():
    generator = np.random.default_rng(0)
    y_true = generator.integers(0, 5, size=300)
    y_pred = generator.integers(0, 5, size=300)
    expected = np.zeros((5, 5), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        expected[t, p] += 1
    np.testing.assert_array_equal(viz.confusion_matrix(y_true, y_pred), expected)


def test_confusion_matrix_rows_sum_to_the_class_counts():
    y_true = np.array([2, 2, 0, 1, 2, 0])
    y_pred = np.array([0, 2, 0, 2, 1, 1])
    result = viz.confusion_matrix(y_true, y_pred)
    np.testing.assert_array_equal(result.sum(axis=1), np.bincount(y_true))
    np.testing.assert_array_equal(result.sum(axis=0), np.bincount(y_pred))


def test_confusion_matrix_reads_one_hot_targets_and_score_predictions():
    y_true = np.array([0, 2, 1, 2])
    y_pred = np.array([0, 1, 1, 2])
    one_hot = np.eye(3)[y_true]
    scores = np.eye(3)[y_pred] * 5.0 - 1.0
    np.testing.assert_array_equal(viz.confusion_matrix(one_hot, scores),
                                  viz.confusion_matrix(y_true, y_pred))


def test_confusion_matrix_takes_the_class_count_from_one_hot_columns():
    one_hot = np.eye(4)[[0, 1, 1]]
    result = viz.confusion_matrix(one_hot, [0, 1, 1])
    assert result.shape == (4, 4)


def test_confusion_matrix_with_num_classes_keeps_unseen_classes():
    result = viz.confusion_matrix([0, 1], [0, 1], num_classes=4)
    expected = np.zeros((4, 4), dtype=np.int64)
    expected[0, 0] = expected[1, 1] = 1
    np.testing.assert_array_equal(result, expected)


def test_confusion_matrix_rejects_a_class_beyond_num_classes():
    with pytest.raises(ValueError, match="num_classes"):
        viz.confusion_matrix([0, 3], [0, 1], num_classes=3)


def test_confusion_matrix_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match=r"y_true has 3 samples but y_pred has 2"):
        viz.confusion_matrix([0, 1, 1], [0, 1])


def test_confusion_matrix_rejects_negative_and_fractional_labels():
    with pytest.raises(ValueError, match="negative"):
        viz.confusion_matrix([0, -1], [0, 1])
    with pytest.raises(ValueError, match="logits"):
        viz.confusion_matrix([0, 1], [0.3, -1.2])


def test_plot_confusion_matrix_writes_a_png(tmp_path):
    generator = np.random.default_rng(0)
    y_true = generator.integers(0, 10, size=200)
    y_pred = np.where(generator.random(200) < 0.8, y_true, generator.integers(0, 10, size=200))
    result = viz.plot_confusion_matrix(y_true, y_pred, tmp_path / "confusion.png")
    assert result == tmp_path / "confusion.png"
    assert_is_png(result)


def test_plot_confusion_matrix_normalized_with_class_names_writes_a_png(tmp_path):
    result = viz.plot_confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], tmp_path / "confusion.png",
                                       class_names=["cat", "dog", "bird"], normalize=True)
    assert_is_png(result)


def test_plot_confusion_matrix_rejects_the_wrong_number_of_class_names(tmp_path):
    with pytest.raises(ValueError, match="class_names"):
        viz.plot_confusion_matrix([0, 1, 2], [0, 1, 2], tmp_path / "bad.png",
                                  class_names=["a", "b"])


def test_plot_confusion_matrix_rejects_mismatched_lengths(tmp_path):
    with pytest.raises(ValueError, match="y_true"):
        viz.plot_confusion_matrix([0, 1, 1], [0, 1], tmp_path / "bad.png")
    assert not (tmp_path / "bad.png").exists()


# --------------------------------------------------------------------------- headless

def test_plotting_never_imports_pyplot(tmp_path):
    # A fresh interpreter, so that nothing else in the test run has imported pyplot already.
    script = textwrap.dedent(
        """
        import sys
        from pathlib import Path

        import numpy as np
        from mini_torch import viz

        out = Path(sys.argv[1])
        points = np.array([[0.0, 0.0], [1.0, 1.0]], dtype=np.float32)
        viz.plot_history({"loss": [1.0, 0.5], "acc": [0.5, 0.9]}, out / "h.png")
        viz.plot_decision_boundary(lambda x: x[:, 0], points, [0, 1], out / "d.png",
                                   resolution=10)
        viz.plot_images(np.zeros((2, 16)), [0, 1], out / "i.png")
        viz.plot_confusion_matrix([0, 1], [1, 1], out / "c.png")
        print("matplotlib.pyplot" in sys.modules)
        """
    )
    completed = subprocess.run([sys.executable, "-c", script, str(tmp_path)],
                               capture_output=True, text=True, timeout=120, check=False,
                               cwd=tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "False"
    for name in ("h.png", "d.png", "i.png", "c.png"):
        assert_is_png(tmp_path / name)
