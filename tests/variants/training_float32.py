"""A correct training module whose metrics are computed in float32 tensors."""

import math

import torch
import torch.nn as nn


def get_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def train(net, loader, criterion, optimizer, epochs=1, device=None, log_every=50):
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


def accuracy(net, loader, device=None):
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
    return (torch.tensor(correct, dtype=torch.float32) / total * 100).item()  # float32


def per_class_accuracy(net, loader, num_classes, device=None):
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
    percent = correct.float() / total.float() * 100  # float32: 200 / 3 is 66.66666412353516; 0 / 0 is nan
    return [float(p) for p in percent]


def mnist_classifier(epochs: int = 5, seed: int = 0):
    from _kit.datasets import mnist  # the shipped 4,000 training and 500 test digits

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


def save_training_curves(history, accuracies, path):
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
