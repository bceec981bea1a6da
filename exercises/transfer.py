"""Exercise 8: Transfer learning: freeze the features, retrain the classifier.

Seed 003 ends with the idea of transfer learning: the convolutional filters a network learns
on one task are fairly generic, so they can be reused for another task. Keep ("freeze") the
weights of the convolutional layers and retrain only the fully connected layers that turn
those features into classes. Training is cheaper, and it needs much less data.

A parameter is frozen when its requires_grad is False: backward() then leaves its .grad
alone, and an optimizer that is not given it can never change it.

You try it on the shipped MNIST digits: learn the features on the digits 0-4, then reuse
them, frozen, to recognise the digits 5-9, which the convolutions have never seen.

This file stands alone: write what it needs here (do not import your training.py).

Run the checks with:  pytest exercises/test_transfer.py
Run the experiment (from the exercises/ folder, it takes about half a minute):

    python -c "from transfer import transfer_digits; print(transfer_digits()[2:])"
"""

import torch
import torch.nn as nn


def freeze_features(net: nn.Module) -> None:
    """Freeze every convolutional layer of `net`, in place; leave the other layers trainable.

    Find the convolutions by their type, not by their names: net.modules() walks through all
    the layers, nested ones included, and isinstance(module, nn.Conv2d) picks the
    convolutions. Set requires_grad = False on each of their parameters (weight and bias).
    Returns None.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def trainable_parameters(net: nn.Module) -> list:
    """The parameters of `net` that still require gradients, as a list, in net.parameters() order.

    For the LeNet of seed 002 after freeze_features: the weights and biases of the three
    fully connected layers, 6 tensors holding 59,134 numbers.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def retrain_classifier(net, loader, epochs=1, lr=0.01, device=None):
    """Freeze the convolutions of `net` and train the rest on `loader`; return the mean loss of each epoch.

    - device=None means cuda when torch.cuda.is_available(), else cpu. Move the network and
      every batch there, and put the network in training mode.
    - freeze_features(net), then build torch.optim.SGD(trainable_parameters(net), lr=lr,
      momentum=0.9): the optimizer must not even be given the frozen parameters.
    - Train with nn.CrossEntropyLoss() for `epochs` passes over the loader (zero_grad,
      forward, loss, backward, step for every mini-batch).

    Returns a list of `epochs` floats: for each epoch, the mean of loss.item() over its
    mini-batches. The convolution weights must come out bit for bit unchanged.
    """
    # YOUR CODE HERE
    raise NotImplementedError("not started yet")


def transfer_digits(seed: int = 0):
    """Learn features on the digits 0-4, reuse them frozen for the digits 5-9.

    Returns (pretrained, retrained, before, after):
      - pretrained: a copy of the network right after pre-training (copy.deepcopy(net),
        taken before retrain_classifier changes the network);
      - retrained: the network after retraining its classifier;
      - before: its accuracy in % on the test digits 0-4 after pre-training;
      - after: its accuracy in % on the test digits 5-9 after retraining the classifier.
    (The grader measures both networks again, on digits you have not seen.)

    The recipe (about 98% and 96%, in 10-20 s on two CPU cores):

    1. torch.manual_seed(seed).
    2. Data: mnist(train, transform) and digit_subset(dataset, digits) from _kit.datasets
       (imported for you below). Use the transform of training.py's mnist_classifier:
       Pad(2), ToTensor(), Normalize((0.5,), (0.5,)). Take the digits (0, 1, 2, 3, 4) and
       (5, 6, 7, 8, 9) of the training set and of the test set; DataLoaders with batch size
       16, shuffled for training.
    3. Pre-train the LeNet of seed 002 (ten outputs, as usual) on the training digits 0-4:
       CrossEntropyLoss, SGD(lr=0.01, momentum=0.9), 3 epochs. Measure its accuracy on the
       test digits 0-4 (eval mode, torch.no_grad(), argmax over dim 1), and keep a copy:
       pretrained = copy.deepcopy(net).
    4. retrain_classifier(net, loader of the training digits 5-9, epochs=3, lr=0.01): the
       same network keeps its ten outputs; only its fully connected layers learn.
    5. Measure the accuracy on the test digits 5-9.
    """
    from _kit.datasets import digit_subset, mnist  # the shipped MNIST digits

    # YOUR CODE HERE
    raise NotImplementedError("not started yet")
