"""Realistic mistakes in solutions/data_loading.py: each must lose points under the hidden suite."""

from grader.authoring.mutation import Mutant

MUTANTS = [
    Mutant("unnormalize in place", "    return img / 2 + 0.5", "    return img.mul_(0.5).add_(0.5)"),
    Mutant("constant shuffle seed", "torch.Generator().manual_seed(seed) if seed is not None else None", "torch.Generator().manual_seed(0)"),
    Mutant("drops the last batch", "num_workers=0, generator=generator)", "num_workers=0, generator=generator, drop_last=True)"),
]
