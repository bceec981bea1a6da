"""A correct data module written differently from the reference: Normalize with lists and keyword
arguments, x * 0.5 + 0.5, an explicit RandomSampler, and the grid written with PIL."""

import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, RandomSampler, SequentialSampler
from torchvision import transforms


def mnist_transform():
    return transforms.Compose([transforms.Pad(padding=2, fill=0), transforms.ToTensor(),
                               transforms.Normalize(mean=[0.5], std=[0.5])])


def unnormalize(img):
    return img * 0.5 + 0.5


def make_loader(dataset, batch_size, shuffle, seed=None):
    if shuffle:
        generator = None
        if seed is not None:
            generator = torch.Generator()
            generator.manual_seed(seed)
        sampler = RandomSampler(dataset, generator=generator)
    else:
        sampler = SequentialSampler(dataset)
    return DataLoader(dataset, batch_size=batch_size, sampler=sampler)


def save_batch_grid(images, path, nrow=8):
    grid = torchvision.utils.make_grid(unnormalize(images), nrow=nrow, padding=2)
    pixels = grid.mul(255).add(0.5).clamp(0, 255).to(torch.uint8).permute(1, 2, 0).numpy()
    Image.fromarray(pixels).save(str(path), format="PNG")
    return grid
