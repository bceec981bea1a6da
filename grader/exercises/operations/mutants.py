"""Realistic mistakes in solutions/operations.py: each must lose points under the hidden suite."""

from grader.authoring.mutation import Mutant

MUTANTS = [
    Mutant('conv1 padding2', 'return nn.Conv2d(in_channels=1, out_channels=6, kernel_size=5, stride=1, padding=0, bias=False)', 'return nn.Conv2d(1, 6, 5, padding=2, bias=False)'),
    Mutant('same padding swapped', 'kernel_size=(5, 3), padding=(2, 1))', 'kernel_size=(5, 3), padding=(1, 2))'),
    Mutant('set weights no bias', '        if bias is not None and conv.bias is not None:\n            conv.bias.copy_(bias)', '        pass'),
    Mutant('output size padding once', 'return (size + 2 * padding - dilation * (kernel_size - 1) - 1) // stride + 1', 'return (size + padding - dilation * (kernel_size - 1) - 1) // stride + 1'),
    Mutant('relu leaky', 'return F.relu(x)', 'return F.leaky_relu(x, 0.01)'),
    Mutant('overlap pool zero padding', 'return nn.MaxPool2d(kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))', 'return nn.Sequential(nn.ZeroPad2d(1), nn.MaxPool2d(3, 2))'),
    Mutant('min pool zero pad', 'return -F.max_pool2d(-x, kernel_size=kernel_size, stride=stride, padding=padding)', 'p = (padding, padding) * 2 if isinstance(padding, int) else (padding[1], padding[1], padding[0], padding[0])\n    return -F.max_pool2d(-F.pad(x, p), kernel_size=kernel_size, stride=stride)'),
    Mutant('bn eps 1e-3', 'return nn.BatchNorm2d(num_features=num_features)', 'return nn.BatchNorm2d(num_features, eps=1e-3)'),
    Mutant('skip order swapped', 'return torch.cat((x, y), dim=1)', 'return torch.cat((y, x), dim=1)'),
    Mutant('flatten view 60', 'return torch.flatten(x, start_dim=1)', 'return x.view(-1, 60)'),
    Mutant('count trainable only', 'return sum(p.numel() for p in module.parameters())', 'return sum(p.numel() for p in module.parameters() if p.requires_grad)'),
    Mutant('grid maps without bias', 'maps = conv(image.unsqueeze(0))[0]', 'maps = F.conv2d(image.unsqueeze(0), conv.weight)[0]'),
    Mutant('grid returns activated maps', 'maps = conv(image.unsqueeze(0))[0]', 'maps = F.relu(conv(image.unsqueeze(0)))[0]'),
    Mutant('grid never saved', '    fig.savefig(path, format="png")\n    return maps', '    return maps'),
    Mutant('dropout scale times', 'return nn.Dropout(p=p)', 'class D(nn.Module):\n        def forward(self, x):\n            if not self.training:\n                return x\n            return x * (torch.rand_like(x) >= p) * (1 - p)\n    return D()'),
]
