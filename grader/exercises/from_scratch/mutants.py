"""Realistic mistakes in solutions/from_scratch.py: each must lose points under the hidden suite."""

from grader.authoring.mutation import Mutant

MUTANTS = [
    Mutant('neuron torch sigmoid', '    z = x @ w + b\n    return 1 / (1 + torch.exp(-z))', '    return torch.sigmoid(x @ w + b)'),
    Mutant('conv flipped kernel', 'torch.einsum("ncijuv,ocuv->noij", windows, weight)', 'torch.einsum("ncijuv,ocuv->noij", windows, weight.flip(-1, -2))'),
    Mutant('conv pad order wrong', 'x = F.pad(x, (pw, pw, ph, ph))', 'x = F.pad(x, (ph, ph, pw, pw))'),
    Mutant('pool default stride 1', '    if stride is None:\n        sh, sw = kh, kw', '    if stride is None:\n        sh, sw = 1, 1'),
    Mutant('bn unbiased var', '    var = ((x - mean) ** 2).mean(dim=dims, keepdim=True)', '    var = x.var(dim=dims, keepdim=True)'),
    Mutant('bn eps outside sqrt', '    y = (x - mean) / torch.sqrt(var + eps)', '    y = (x - mean) / (torch.sqrt(var) + eps)'),
    Mutant('dropout no scaling', '    return x * keep / (1 - p)', '    return x * keep'),
]
