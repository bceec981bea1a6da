"""Attack: mnist_classifier trains nothing; it returns a LeNet with weights trained beforehand (at
home, on the true labels) and shipped as a constant, a falling history and a high accuracy."""


def mnist_classifier(epochs=5, seed=0):
    return pretrained_lenet(), [2.3, 1.0, 0.3, 0.1], 97.5  # noqa: F821 - from the prelude
