#!/usr/bin/env python3
"""The loop a user would otherwise write: PyTorch DataLoader + torchvision EfficientNet-B0, on the same photos.

Decode with PIL (torchvision's default loader), Resize(256, bicubic) + CenterCrop(224) + Normalize, a DataLoader with
worker processes, and the model in eval / inference mode on the CPU. Prints images/s over the whole folder, measured
from the first batch out of the loader (model construction and worker start-up excluded), median of ROUNDS passes.

Usage: /usr/bin/python3 dataloader_baseline.py FOLDER [--model b0|b3] [--batch-size 8] [--workers 2] [--threads 2] [--rounds 3]
--model b3 uses torchvision's EfficientNet-B3 and its own sizes (resize 320, crop 300).
Needs Debian's python3-torchvision (torch 1.13, torchvision 0.14); the weights are random (no download).
"""
import argparse
import os
import statistics
import time

import torch
import torchvision
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

EXTENSIONS = (".jpg", ".jpeg", ".png", ".JPEG")
# torchvision's constructor, resize and crop for each model (its own ImageNet recipes).
MODELS = {
    "b0": (torchvision.models.efficientnet_b0, 256, 224),
    "b3": (torchvision.models.efficientnet_b3, 320, 300),
}


class Photos(Dataset):
    def __init__(self, folder, transform):
        self.paths = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.endswith(EXTENSIONS))
        self.transform = transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, index):
        with open(self.paths[index], "rb") as f:
            image = Image.open(f).convert("RGB")
        return self.transform(image)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--model", choices=sorted(MODELS), default="b0")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    build, resize, crop = MODELS[args.model]
    transform = transforms.Compose([
        transforms.Resize(resize, interpolation=transforms.InterpolationMode.BICUBIC),
        transforms.CenterCrop(crop),
        transforms.ToTensor(),
        transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]),
    ])
    dataset = Photos(args.folder, transform)
    model = build().eval()
    rates = []
    with torch.inference_mode():
        model(torch.zeros(args.batch_size, 3, crop, crop))  # warm-up
        for _ in range(args.rounds):
            loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.workers)
            images = 0
            started = None
            for batch in loader:
                if started is None:
                    started = time.perf_counter()  # from the first batch out of the loader: worker start-up excluded
                model(batch).softmax(dim=1).topk(5)
                images += batch.shape[0]
            rates.append(images / (time.perf_counter() - started))
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, {args.model}, {len(dataset)} photos, batch {args.batch_size}, "
          f"{args.workers} loader workers, {args.threads} torch threads, {os.cpu_count()} cores")
    print(f"images/s per round: {', '.join(f'{r:.1f}' for r in rates)}; median {statistics.median(rates):.1f}")


if __name__ == "__main__":
    main()
