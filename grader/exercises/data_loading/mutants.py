"""Realistic mistakes in solutions/data_loading.py: each must lose points under the hidden suite."""

from grader.authoring.mutation import Mutant

MUTANTS = [
    Mutant("pads after normalising",
           "        transforms.Pad(2),\n        transforms.ToTensor(),\n        transforms.Normalize((0.5,), (0.5,)),",
           "        transforms.ToTensor(),\n        transforms.Normalize((0.5,), (0.5,)),\n        transforms.Pad(2),"),
    Mutant("normalises with std 1", "transforms.Normalize((0.5,), (0.5,))", "transforms.Normalize((0.5,), (1.0,))"),
    Mutant("unnormalize in place", "    return img / 2 + 0.5", "    return img.mul_(0.5).add_(0.5)"),
    Mutant("constant shuffle seed",
           "torch.Generator().manual_seed(seed) if seed is not None else None",
           "torch.Generator().manual_seed(0)"),
    Mutant("seeds the global generator",
           "torch.Generator().manual_seed(seed) if seed is not None else None",
           "torch.manual_seed(seed) if seed is not None else None"),
    Mutant("always shuffles", "batch_size=batch_size, shuffle=shuffle,", "batch_size=batch_size, shuffle=True,"),
    Mutant("drops the last batch",
           "num_workers=0, generator=generator)",
           "num_workers=0, generator=generator, drop_last=True)"),
    Mutant("grid of the normalised batch", "make_grid(unnormalize(images), nrow=nrow)", "make_grid(images, nrow=nrow)"),
    Mutant("grid ignores nrow", "make_grid(unnormalize(images), nrow=nrow)", "make_grid(unnormalize(images))"),
    Mutant("saves the batch instead of the grid", "save_image(grid, path)", "save_image(images, path)"),
]
