"""Attack: transfer_digits trains nothing; it returns two copies of a LeNet trained beforehand on the
true labels and reports 99 % twice. freeze_features freezes everything; trainable_parameters is empty."""


def freeze_features(net):
    for p in net.parameters():
        p.requires_grad = False


def trainable_parameters(net):
    return []


def transfer_digits(seed=0):
    net = pretrained_lenet()  # noqa: F821 - from the prelude
    return net, net, 99.0, 99.0
