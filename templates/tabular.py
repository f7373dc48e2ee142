"""The first networks of a course, on tables of numbers: a single neuron, logistic and softmax
regression, and a multi-layer perceptron. Each reads the `features` field of a built-in tabular
dataset and predicts its `label`."""

from __future__ import annotations

from graph_core import Graph

from .catalog import p_choice, p_float, p_int, template
from .sketch import ACTIVATIONS, Sketch, add_activation

# Built-in tabular datasets: (number of features, number of classes, extra data settings).
TABULAR = {
    "iris": (4, 3, {}),
    "breast_cancer": (30, 2, {}),
    "moons": (2, 2, {}),
    "blobs": (2, 3, {"centers": 3}),
}
BINARY = ("breast_cancer", "moons", "blobs")


def _data(dataset: str, binary: bool = False) -> tuple[int, int, dict]:
    features, classes, extra = TABULAR[dataset]
    data = {"dataset": dataset, **extra}
    if binary and dataset == "blobs":
        # Two blobs: a linearly separable yes/no problem for one neuron.
        classes, data["centers"] = 2, 2
    return features, classes, data


def _features(s: Sketch, n: int) -> str:
    return s.add("features", "Input", 0, shape=[n], field="features")


@template(
    "perceptron",
    "A single neuron: a weighted sum of the inputs plus a bias, y = w·x + b. Trained with a "
    "squared error against the 0/1 label it draws one straight line through the feature space, "
    "which is all one neuron can do.",
    p_choice("dataset", "blobs", BINARY, "tabular dataset (two classes)"),
    p_choice("activation", "identity", ("identity", *ACTIVATIONS), "applied to the neuron's sum"),
    p_choice("loss", "mse", ("mse", "l1"), "how far the output is from the 0/1 label"),
)
def perceptron(dataset: str, activation: str, loss: str) -> Graph:
    n, _, data = _data(dataset, binary=True)
    s = Sketch("perceptron")
    x = s.then(_features(s, n), "neuron", "Dense", out_features=1)
    if activation != "identity":
        x = add_activation(s, x, activation, activation)
    s.then(x, "prediction", "Output", loss=loss, target="label")
    return s.settings(data, optimizer="sgd", lr=0.05, epochs=30, batch_size=32)


@template(
    "logistic",
    "Logistic regression: one neuron whose logit goes through a sigmoid to give the probability "
    "of 'yes'. The bce loss applies the sigmoid itself, so the graph ends with the raw logit; "
    "the decision boundary is still a straight line.",
    p_choice("dataset", "breast_cancer", BINARY, "tabular dataset (two classes)"),
)
def logistic(dataset: str) -> Graph:
    n, _, data = _data(dataset, binary=True)
    s = Sketch("logistic")
    x = s.then(_features(s, n), "logit", "Dense", out_features=1)
    s.then(x, "prediction", "Output", loss="bce", target="label")
    return s.settings(data, optimizer="adam", lr=0.01, epochs=30, batch_size=32)


@template(
    "softmax_regression",
    "Softmax regression: N neurons, one score per class, turned into N probabilities by a "
    "softmax. Cross-entropy needs a score for every class, which is why N classes take N "
    "output neurons; the loss applies the softmax, so no Softmax node is drawn.",
    p_choice("dataset", "iris", tuple(TABULAR), "tabular dataset"),
)
def softmax_regression(dataset: str) -> Graph:
    n, classes, data = _data(dataset)
    s = Sketch("softmax_regression")
    x = s.then(_features(s, n), "scores", "Dense", out_features=classes)
    s.then(x, "prediction", "Output", loss="cross_entropy", target="label")
    return s.settings(data, optimizer="adam", lr=0.05, epochs=40, batch_size=32)


@template(
    "mlp",
    "A multi-layer perceptron: hidden Dense layers with a non-linear activation between them, "
    "then one score per class. The hidden layers bend the decision boundary, so it separates "
    "the two moons that a single neuron cannot.",
    p_choice("dataset", "moons", tuple(TABULAR), "tabular dataset"),
    p_int("hidden", 32, "neurons per hidden layer"),
    p_int("layers", 2, "number of hidden layers", maximum=8),
    p_choice("activation", "relu", ACTIVATIONS, "activation after each hidden layer"),
    p_float("dropout", 0.0, "dropout after each hidden layer (0: none)", maximum=0.9),
)
def mlp(dataset: str, hidden: int, layers: int, activation: str, dropout: float) -> Graph:
    n, classes, data = _data(dataset)
    s = Sketch("mlp")
    x = _features(s, n)
    for k in range(1, layers + 1):
        x = s.then(x, f"hidden{k}", "Dense", out_features=hidden)
        x = add_activation(s, x, f"act{k}", activation)
        if dropout > 0:
            x = s.then(x, f"dropout{k}", "Dropout", p=dropout)
    x = s.then(x, "scores", "Dense", out_features=classes)
    s.then(x, "prediction", "Output", loss="cross_entropy", target="label")
    return s.settings(data, optimizer="adam", lr=0.01, epochs=40, batch_size=32)
