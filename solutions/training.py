"""Exercise 7: Training loop, device choice, accuracy and per-class accuracy.

Seeds 002 and 003 train a network with the same few lines, repeated for every mini-batch:

    optimizer.zero_grad()              # clear the gradients of the previous step
    outputs = net(inputs)              # forward
    loss = criterion(outputs, labels)  # loss
    loss.backward()                    # backward: fill every parameter's .grad
    optimizer.step()                   # update the parameters

and print the running loss every 50 mini-batches as '[epoch, batch] loss: 0.123'. Then they
measure the accuracy on the test set inside torch.no_grad(), overall and for each class.

Write those pieces as functions that take the network, the data loader, the loss and the
optimizer as arguments, so they work for any model and any dataset; then put them together
in mnist_classifier() to train a LeNet on the shipped MNIST digits to at least 95% test
accuracy in under a minute on a laptop CPU.

Run the checks with:  pytest exercises/test_training.py
Train the MNIST classifier (from the exercises/ folder; it takes 10-30 s):

    python -c "from training import mnist_classifier; net, history, acc = mnist_classifier(); print(acc)"

(On a busy machine, torch.set_num_threads(1) before training can be much faster than the default.)
"""

import math

import torch
import torch.nn as nn


def get_device() -> torch.device:
    """The device to compute on: torch.device("cuda") when a GPU is available, else "cpu".

    torch.cuda.is_available() tells you whether PyTorch can use a GPU.
    """
    ### BEGIN SOLUTION
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    ### END SOLUTION


def train(net, loader, criterion, optimizer, epochs=1, device=None, log_every=50):
    """Train `net` for `epochs` passes over `loader` and return the logged running losses.

    - device=None means get_device(). Move the network to the device once, and every batch
      of inputs and labels to the same device inside the loop.
    - Put the network in training mode (net.train()) first: dropout and batch norm behave
      differently while training, and the caller may have left it in eval mode.
    - For each mini-batch: zero_grad, forward, loss = criterion(outputs, labels), backward, step.
    - Keep a running loss (the sum of loss.item() of the batches since the last report). After
      every `log_every` mini-batches of an epoch (batch numbers log_every, 2*log_every, ...),
      print '[epoch, batch] loss: x.xxx' as the seeds do:

          print('[%d, %5d] loss: %.3f' % (epoch + 1, i + 1, running_loss / log_every))

      append running_loss / log_every to the history and reset the running loss to 0.
      The running loss also restarts at 0 at the start of every epoch, so the few batches
      left over at the end of an epoch (fewer than log_every) are never reported.

    Returns the history: a list of floats, one for each report, so its length is
    epochs * (number of batches per epoch // log_every).
    """
    ### BEGIN SOLUTION
    device = get_device() if device is None else device
    net.to(device)
    net.train()
    history = []
    for epoch in range(epochs):
        running_loss = 0.0
        for i, (inputs, labels) in enumerate(loader):
            inputs, labels = inputs.to(device), labels.to(device)
            optimizer.zero_grad()
            outputs = net(inputs)
            loss = criterion(outputs, labels)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
            if i % log_every == log_every - 1:
                print("[%d, %5d] loss: %.3f" % (epoch + 1, i + 1, running_loss / log_every))
                history.append(running_loss / log_every)
                running_loss = 0.0
    return history
    ### END SOLUTION


def accuracy(net, loader, device=None):
    """The percentage (0 to 100) of samples in `loader` whose predicted class is right.

    - device=None means get_device(); move the network and every batch there.
    - Evaluate in eval mode (net.eval()) and inside `with torch.no_grad():`, so that dropout
      is off and no graph is built. You may put the network back in the mode it was in
      before (net.training tells you), or leave it in eval mode.
    - The predicted class of a sample is the index of its largest score: the argmax over
      dimension 1 of the output (torch.max(outputs, 1) returns the values and those indices).
    - Count over ALL samples: the last batch may be smaller than the others.

    Returns a Python float, e.g. 75.0 when 3 of 4 samples are right (use .item() on tensors).
    """
    ### BEGIN SOLUTION
    device = get_device() if device is None else device
    was_training = net.training
    net.to(device)
    net.eval()
    correct = 0
    total = 0
    with torch.no_grad():
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            predicted = net(inputs).argmax(dim=1)
            correct += (predicted == labels).sum().item()
            total += labels.size(0)
    net.train(was_training)
    return 100.0 * correct / total
    ### END SOLUTION


def per_class_accuracy(net, loader, num_classes, device=None):
    """For each class c in 0..num_classes-1, the percentage of samples of class c predicted right.

    Same rules as accuracy() (device, eval mode, torch.no_grad(), argmax over dim 1).
    Returns a list of num_classes floats; a class with no sample in the data gets float("nan").

    Seed 003 counts with `for i in range(batch_size_test):` inside each batch. Do not copy
    that loop: it breaks (IndexError) or miscounts when the last batch is smaller than
    batch_size_test. Loop over the labels the batch really has, or count with tensor
    operations (e.g. torch.bincount(labels, minlength=num_classes)).
    """
    ### BEGIN SOLUTION
    device = get_device() if device is None else device
    was_training = net.training
    net.to(device)
    net.eval()
    correct = torch.zeros(num_classes, dtype=torch.long)
    total = torch.zeros(num_classes, dtype=torch.long)
    with torch.no_grad():
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            predicted = net(inputs).argmax(dim=1)
            labels, predicted = labels.cpu(), predicted.cpu()
            total += torch.bincount(labels, minlength=num_classes)
            correct += torch.bincount(labels[predicted == labels], minlength=num_classes)
    net.train(was_training)
    return [100.0 * c / t if t > 0 else math.nan for c, t in zip(correct.tolist(), total.tolist())]
    ### END SOLUTION


def mnist_classifier(epochs: int = 5, seed: int = 0):
    """Train a LeNet on the shipped MNIST digits; return (net, history, test accuracy in %).

    The recipe (it reaches about 97% on the 500 test digits, with about 13 s of training
    on one CPU core):

    1. torch.manual_seed(seed) first, so that the weights and the shuffling are reproducible.
    2. The data: mnist(train=True, transform=...) and mnist(train=False, transform=...) from
       _kit.datasets (imported for you below) give the 4,000 training and 500 test digits,
       each 28x28. Use the transform
           transforms.Compose([transforms.Pad(2), transforms.ToTensor(),
                               transforms.Normalize((0.5,), (0.5,))])
       (torchvision.transforms): Pad(2) makes them 32x32, the size LeNet expects, and
       Normalize maps the pixels from [0, 1] to [-1, 1].
    3. DataLoaders: batch size 32, shuffle=True for training; any batch size for the test set.
    4. The network: the LeNet of seed 002 (conv 1->6 5x5, max pool 2, conv 6->16 5x5, max pool 2,
       fc 400->120->84->10, ReLU after every layer but the last). Copy your Net from lenet.py
       into this function, or write it as an nn.Sequential.
    5. nn.CrossEntropyLoss() and optim.SGD(net.parameters(), lr=0.02, momentum=0.9).
       Train with your train() for epochs - 1 epochs; then divide the learning rate by 10
       (it lives in the optimizer: set group["lr"] = 0.002 for every group in
       optimizer.param_groups) and train() one last epoch. The small final steps let the
       weights settle, which is worth about a point of accuracy. The history to return is
       the two histories joined.
    6. The test accuracy with your accuracy().
    """
    from _kit.datasets import mnist  # the shipped 4,000 training and 500 test digits

    ### BEGIN SOLUTION
    import torch.optim as optim
    from torch.utils.data import DataLoader
    from torchvision import transforms

    torch.manual_seed(seed)
    transform = transforms.Compose(
        [transforms.Pad(2), transforms.ToTensor(), transforms.Normalize((0.5,), (0.5,))]
    )
    trainloader = DataLoader(mnist(train=True, transform=transform), batch_size=32, shuffle=True)
    testloader = DataLoader(mnist(train=False, transform=transform), batch_size=500)
    net = nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5),
        nn.ReLU(),
        nn.MaxPool2d(2, 2),
        nn.Conv2d(6, 16, kernel_size=5),
        nn.ReLU(),
        nn.MaxPool2d(2, 2),
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, 10),
    )
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(net.parameters(), lr=0.02, momentum=0.9)
    history = train(net, trainloader, criterion, optimizer, epochs=epochs - 1)
    for group in optimizer.param_groups:
        group["lr"] = 0.002
    history += train(net, trainloader, criterion, optimizer, epochs=1)
    return net, history, accuracy(net, testloader)
    ### END SOLUTION


def save_training_curves(history, accuracies, path):
    """Save the training curves as a PNG image at `path` (a str or a pathlib.Path).

    - history: the running losses that train() returned; plot them against their index.
    - accuracies: None, or a list of accuracies in % (e.g. one per epoch); when given, plot
      them too, on a second set of axes (subplot) with its own y scale.
    Label the axes. The checks run without a screen, so draw without pyplot's windows: either
    `import matplotlib; matplotlib.use("Agg")` before `import matplotlib.pyplot as plt` (and
    plt.close(fig) after fig.savefig(path)), or build a matplotlib.figure.Figure directly,
    which never opens a window and needs no closing.
    """
    ### BEGIN SOLUTION
    from matplotlib.figure import Figure

    panels = 1 if accuracies is None else 2
    fig = Figure(figsize=(5 * panels, 4))
    fig.subplots_adjust(left=0.15 / panels, right=0.97, bottom=0.13, top=0.92, wspace=0.3)  # tight_layout, cheaper
    axes = fig.subplots(1, panels, squeeze=False)[0]
    axes[0].plot(range(1, len(history) + 1), history, marker=".")
    axes[0].set_xlabel("report (every log_every mini-batches)")
    axes[0].set_ylabel("running loss")
    axes[0].set_title("training loss")
    if accuracies is not None:
        axes[1].plot(range(1, len(accuracies) + 1), accuracies, marker="o", color="tab:green")
        axes[1].set_xlabel("epoch")
        axes[1].set_ylabel("accuracy (%)")
        axes[1].set_title("accuracy")
    fig.savefig(path, format="png")
    ### END SOLUTION


### BEGIN HINTS
# Tiered hints for each visible check of exercises/test_training.py: a nudge toward the idea, a closer look,
# then the line itself. `grader stubs` copies them into exercises/_kit/generated/; the stub never shows them.
HINTS = {
    "test_get_device": (
        "Compute on the GPU when there is one, else on the CPU; torch can tell you which.",
        "torch.cuda.is_available() answers the question; torch.device(\"cuda\") and torch.device(\"cpu\") are the "
        "two answers.",
        "return torch.device(\"cuda\" if torch.cuda.is_available() else \"cpu\")",
    ),
    "test_train_history_length": (
        "The history gets one value per report, and a report comes after every log_every mini-batches of an epoch; "
        "the few batches left at the end of an epoch are not reported.",
        "Number the batches with enumerate(loader) and report when i % log_every == log_every - 1; return the list of "
        "reported values (Python floats).",
        "if i % log_every == log_every - 1:\n    history.append(running_loss / log_every)\n    running_loss = 0.0",
    ),
    "test_train_history_is_running_mean": (
        "Each reported value is the mean loss of the last log_every mini-batches: sum them, divide, start again.",
        "Add loss.item() to running_loss after every step; at a report append running_loss / log_every and reset it "
        "to 0; reset it at the start of every epoch too.",
        "running_loss += loss.item()\nif i % log_every == log_every - 1:\n    history.append(running_loss / log_every)\n"
        "    running_loss = 0.0",
    ),
    "test_train_prints_running_loss": (
        "At every report, print the line the seeds print: the epoch and the batch, counted from 1, and the loss.",
        "print('[%d, %5d] loss: %.3f' % (epoch + 1, i + 1, value)), with the same value you append to the history.",
        "print(\"[%d, %5d] loss: %.3f\" % (epoch + 1, i + 1, running_loss / log_every))",
    ),
    "test_train_decreases_loss": (
        "If the loss does not fall, the network does not learn: is every step complete?",
        "Each mini-batch needs all five moves: zero_grad, forward, loss, backward, step.",
        "optimizer.zero_grad()\noutputs = net(inputs)\nloss = criterion(outputs, labels)\nloss.backward()\n"
        "optimizer.step()",
    ),
    "test_train_matches_reference_steps": (
        "The weights must change exactly as the seed's loop changes them: same order of moves, one step per "
        "mini-batch, and no gradients left over from the step before.",
        "zero_grad before every backward (gradients add up otherwise), and optimizer.step() once per mini-batch.",
        "optimizer.zero_grad()\nloss = criterion(net(inputs), labels)\nloss.backward()\noptimizer.step()",
    ),
    "test_train_sets_train_mode_and_device": (
        "Before training: the network in training mode (the caller may have left it in eval mode), on the device, "
        "and every batch moved there too.",
        "device = get_device() when device is None; net.to(device) and net.train() before the loop; "
        "inputs.to(device) and labels.to(device) inside it. No torch.no_grad() while training.",
        "device = get_device() if device is None else device\nnet.to(device)\nnet.train()\n"
        "inputs, labels = inputs.to(device), labels.to(device)",
    ),
    "test_accuracy_percent": (
        "A sample is right when its largest score sits at its label; the accuracy is the percentage of right samples.",
        "outputs.argmax(dim=1) gives each sample's predicted class; count (predicted == labels).sum().item() and the "
        "samples, and return 100 * correct / total as a float.",
        "predicted = net(inputs).argmax(dim=1)\ncorrect += (predicted == labels).sum().item()\ntotal += labels.size(0)",
    ),
    "test_accuracy_counts_partial_batch": (
        "The last batch can be smaller than the others: count the samples each batch really has.",
        "labels.size(0) is the size of this batch; loader.batch_size is only the size asked for.",
        "total += labels.size(0)",
    ),
    "test_accuracy_eval_mode_no_grad": (
        "Evaluating is not training: dropout and batch norm must not act, and no graph should be built.",
        "net.eval() before the loop, and the loop inside `with torch.no_grad():`.",
        "net.eval()\nwith torch.no_grad():\n    for inputs, labels in loader:",
    ),
    "test_per_class_accuracy": (
        "Count, for every class, its samples and the ones predicted right. Mind the last batch: it may be smaller "
        "than the others. A class with no samples has no percentage (nan).",
        "Seed 003's `for i in range(batch_size)` breaks on the smaller last batch: loop over the labels the batch "
        "really has, or count with torch.bincount(labels, minlength=num_classes).",
        "total += torch.bincount(labels, minlength=num_classes)\n"
        "correct += torch.bincount(labels[predicted == labels], minlength=num_classes)\n"
        "return [100.0 * c / t if t > 0 else math.nan for c, t in zip(correct.tolist(), total.tolist())]",
    ),
    "test_per_class_accuracy_eval_mode_no_grad": (
        "Same rules as accuracy(): evaluating is not training.",
        "net.eval() before the loop, and the loop inside `with torch.no_grad():`.",
        "net.eval()\nwith torch.no_grad():\n    for inputs, labels in loader:",
    ),
    "test_save_training_curves": (
        "Plot the losses against their index, and, when accuracies are given, those too on axes of their own; then "
        "save the figure as a PNG.",
        "A matplotlib.figure.Figure opens no window: fig.subplots(1, 2) gives two axes, axes.plot draws, "
        "fig.savefig(path) writes the file.",
        "fig = Figure(figsize=(10, 4))\nleft, right = fig.subplots(1, 2)\nleft.plot(history)\n"
        "right.plot(accuracies)\nfig.savefig(path)",
    ),
}
### END HINTS
