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
    ### BEGIN SOLUTION
    for module in net.modules():
        if isinstance(module, nn.Conv2d):
            for p in module.parameters():
                p.requires_grad = False
    ### END SOLUTION


def trainable_parameters(net: nn.Module) -> list:
    """The parameters of `net` that still require gradients, as a list, in net.parameters() order.

    For the LeNet of seed 002 after freeze_features: the weights and biases of the three
    fully connected layers, 6 tensors holding 59,134 numbers.
    """
    ### BEGIN SOLUTION
    return [p for p in net.parameters() if p.requires_grad]
    ### END SOLUTION


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
    ### BEGIN SOLUTION
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu") if device is None else device
    net.to(device)
    net.train()
    freeze_features(net)
    optimizer = torch.optim.SGD(trainable_parameters(net), lr=lr, momentum=0.9)
    criterion = nn.CrossEntropyLoss()
    losses = []
    for _ in range(epochs):
        total, batches = 0.0, 0
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            loss = criterion(net(inputs), labels)
            loss.backward()
            optimizer.step()
            total += loss.item()
            batches += 1
        losses.append(total / batches)
    return losses
    ### END SOLUTION


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

    ### BEGIN SOLUTION
    import copy

    from torch.utils.data import DataLoader
    from torchvision import transforms

    torch.manual_seed(seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    transform = transforms.Compose(
        [transforms.Pad(2), transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]
    )
    trainset, testset = mnist(train=True, transform=transform), mnist(train=False, transform=transform)
    low, high = (0, 1, 2, 3, 4), (5, 6, 7, 8, 9)

    def loader(dataset, digits, shuffle):
        return DataLoader(digit_subset(dataset, digits), batch_size=16, shuffle=shuffle)

    def accuracy(net, loader):
        net.eval()
        correct = total = 0
        with torch.no_grad():
            for inputs, labels in loader:
                inputs, labels = inputs.to(device), labels.to(device)
                correct += (net(inputs).argmax(dim=1) == labels).sum().item()
                total += labels.size(0)
        return 100.0 * correct / total

    features = [nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2)]
    classifier = [nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)]
    net = nn.Sequential(*features, *classifier).to(device)
    criterion = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
    net.train()
    for _ in range(3):
        for inputs, labels in loader(trainset, low, shuffle=True):
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            criterion(net(inputs), labels).backward()
            optimizer.step()
    before = accuracy(net, loader(testset, low, shuffle=False))
    pretrained = copy.deepcopy(net)

    retrain_classifier(net, loader(trainset, high, shuffle=True), epochs=3, lr=0.01, device=device)
    after = accuracy(net, loader(testset, high, shuffle=False))
    return pretrained, net, before, after
    ### END SOLUTION


### BEGIN HINTS
# Tiered hints for each visible check of exercises/test_transfer.py: a nudge toward the idea, a closer look,
# then the line itself. `grader stubs` copies them into exercises/_kit/generated/; the stub never shows them.
HINTS = {
    "test_freeze_features_sequential": (
        "A parameter is frozen when it no longer requires gradients. Freeze every parameter of every convolution, "
        "and nothing else.",
        "net.modules() walks every layer; for those that are nn.Conv2d, set requires_grad = False on each of their "
        "parameters. Return nothing.",
        "for module in net.modules():\n    if isinstance(module, nn.Conv2d):\n        for p in module.parameters():\n"
        "            p.requires_grad = False",
    ),
    "test_freeze_features_finds_convs_by_type": (
        "Names can lie: a layer called `conv` may be a Linear, and convolutions can hide inside an nn.Sequential.",
        "Decide by the layer's type with isinstance(module, nn.Conv2d), and let net.modules() reach the nested layers.",
        "for module in net.modules():\n    if isinstance(module, nn.Conv2d):\n        module.requires_grad_(False)",
    ),
    "test_trainable_parameters": (
        "Keep the parameters that still require gradients, in the order net.parameters() gives them.",
        "A list comprehension over net.parameters() that tests p.requires_grad; return the parameters themselves, not "
        "copies.",
        "return [p for p in net.parameters() if p.requires_grad]",
    ),
    "test_retrain_classifier_keeps_conv_weights": (
        "The convolutions must come out bit for bit unchanged while the linear layers learn.",
        "freeze_features(net) first, then give the optimizer only trainable_parameters(net): momentum or weight decay "
        "could move a frozen weight the optimizer holds.",
        "freeze_features(net)\noptimizer = torch.optim.SGD(trainable_parameters(net), lr=lr, momentum=0.9)",
    ),
    "test_retrain_classifier_optimizer_gets_trainable_only": (
        "The optimizer must not even be given the frozen parameters.",
        "Build torch.optim.SGD from trainable_parameters(net), after freeze_features(net), not from net.parameters().",
        "optimizer = torch.optim.SGD(trainable_parameters(net), lr=lr, momentum=0.9)",
    ),
    "test_retrain_classifier_loss_decreases": (
        "On an easy task the loss must fall over three epochs: is every mini-batch a complete training step?",
        "zero_grad, forward, loss (nn.CrossEntropyLoss), backward and step for every mini-batch, with the network in "
        "training mode.",
        "optimizer.zero_grad()\nloss = criterion(net(inputs), labels)\nloss.backward()\noptimizer.step()",
    ),
    "test_retrain_classifier_returns_epoch_mean_losses": (
        "Each epoch's value is the mean of its mini-batches' losses: add them up and divide by how many there were.",
        "Add loss.item() for every mini-batch and count the batches; after the epoch append total / batches. The "
        "check uses lr=0, so every epoch gives the same mean.",
        "total += loss.item()\nbatches += 1\n# after the epoch:\nlosses.append(total / batches)",
    ),
}
### END HINTS
