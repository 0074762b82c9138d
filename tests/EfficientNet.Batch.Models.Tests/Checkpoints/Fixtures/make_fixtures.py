#!/usr/bin/python3
"""Writes the checkpoint fixtures used by the C# CheckpointReader tests.

Run with a Python that has PyTorch (Debian: /usr/bin/python3 with python3-torch):

    /usr/bin/python3 tests/EfficientNet.Batch.Models.Tests/Checkpoints/Fixtures/make_fixtures.py

The outputs are committed, so CI never needs torch. Every file is made by real torch.save, so the
reader is tested against what PyTorch actually writes, not against our idea of it. Re-running changes
the bytes (random values, torch version) but not the structure; the tests read values from
expected.json, which this script writes from the same tensors.

Nothing here is loaded back with torch.load: the malicious fixtures would run their payload.
"""
import collections
import json
import os
import pickle
import shutil
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
PWNED_MARKER = "/tmp/effnet_pickle_pwned"


def tiny_state_dict():
    """An mmcls-shaped state dict, small, with every layout quirk the converter produces (spec §4)."""
    g = torch.Generator().manual_seed(20220119)

    def randn(*shape, dtype=torch.float32):
        return torch.randn(*shape, generator=g).to(dtype)

    sd = collections.OrderedDict()
    sd["backbone.layers.0.conv.weight"] = randn(4, 3, 3, 3)  # contiguous
    sd["backbone.layers.0.bn.weight"] = randn(4)
    sd["backbone.layers.0.bn.bias"] = randn(4)
    sd["backbone.layers.0.bn.running_mean"] = randn(4)
    sd["backbone.layers.0.bn.running_var"] = randn(4).abs()
    sd["backbone.layers.0.bn.num_batches_tracked"] = torch.tensor(1234, dtype=torch.int64)  # 0-d int64
    # TF depthwise kernels are [k, k, C, 1]; the converter permutes them to [C, 1, k, k] without copying,
    # which gives strides (1, 1, k*C, C): genuinely non-contiguous.
    sd["backbone.layers.1.0.depthwise_conv.conv.weight"] = randn(3, 3, 4, 1).permute(2, 3, 0, 1)
    # The spec's other depthwise layout: [C,1,k,k] with strides (k^2, C*k^2, k, 1).
    sd["backbone.layers.2.0.depthwise_conv.conv.weight"] = randn(1, 4, 5, 5).permute(1, 0, 2, 3)
    # A transposed 1x1 conv: [out, in, 1, 1] seen through a .t() of an [in, out] matrix.
    sd["backbone.layers.1.0.linear_conv.conv.weight"] = randn(4, 3).t()[:, :, None, None]
    # Precision variants that must come out as float32.
    sd["backbone.layers.6.bn.running_mean"] = randn(6, dtype=torch.float64)
    sd["backbone.layers.6.bn.running_var"] = randn(6, dtype=torch.float16).abs()
    # Tied parameters: two keys, one storage. The reader must not hand out one shared array.
    tied = randn(6)
    sd["backbone.layers.6.bn.weight"] = tied
    sd["backbone.layers.6.bn.bias"] = tied
    # EdgeTPU classifier: a [1:] slice of a 1001-row tensor (here 11 rows), non-zero storage offset.
    sd["head.fc.weight"] = randn(11, 5)[1:]
    sd["head.fc.bias"] = randn(11)[1:]
    # A 0-d float scalar.
    sd["head.logit_scale"] = randn(1)[0].clone()
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("backbone", {"version": 1})])
    return sd


def save_as(obj, final_name, save_stem, legacy=False):
    """torch.save takes the zip prefix from the file stem at save time: save under save_stem, then rename."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = os.path.join(tmp, save_stem + ".pth")
        torch.save(obj, tmp_path, _use_new_zipfile_serialization=not legacy)
        shutil.copyfile(tmp_path, os.path.join(HERE, final_name))


class RunsShellCommandWhenUnpickled:
    """The classic pickle exploit: unpickling calls os.system (pickled as posix.system on Linux)."""

    def __reduce__(self):
        return (os.system, ("touch " + PWNED_MARKER,))


def describe(t):
    return {
        "shape": list(t.shape),
        "source_dtype": str(t.dtype).replace("torch.", ""),
        "stride": list(t.stride()),
        "storage_offset": t.storage_offset(),
        "is_contiguous": t.is_contiguous(),
        # float32 values in row-major order; json writes the exact double of each float32.
        "values": [float(v) for v in t.detach().to(torch.float32).contiguous().reshape(-1).tolist()],
    }


def main():
    sd = tiny_state_dict()
    save_as(sd, "tiny_zip_flat.pth", "my_weights")
    wrapped = {
        "meta": {"mmcls_version": "0.25.0", "epoch": 3, "lr": 0.1, "CLASSES": ("cat", "dog"), "best": None, "ema": False},
        "state_dict": sd,
    }
    save_as(wrapped, "tiny_zip_wrapped.pth", "epoch_3")
    save_as(sd, "tiny_legacy.pth", "legacy_weights", legacy=True)

    # Files that are valid torch.save output but not importable state dicts.
    save_as({"backbone.layers.0.conv.weight": torch.ones(2), "backbone.index": torch.arange(3)}, "int64_parameter.pth", "int64_parameter")
    save_as({"model": sd, "epoch": 3}, "not_a_state_dict.pth", "not_a_state_dict")

    evil = {"state_dict": {"backbone.layers.0.conv.weight": torch.zeros(2), "x": RunsShellCommandWhenUnpickled()}}
    save_as(evil, "malicious_zip.pth", "malicious")
    save_as(evil, "malicious_legacy.pth", "malicious", legacy=True)
    with open(os.path.join(HERE, "malicious_plain.pkl"), "wb") as f:
        pickle.dump(RunsShellCommandWhenUnpickled(), f, protocol=2)

    expected = {
        "generator": "make_fixtures.py",
        "torch_version": torch.__version__,
        "python_version": sys.version.split()[0],
        "zip_prefixes": {"tiny_zip_flat.pth": "my_weights", "tiny_zip_wrapped.pth": "epoch_3"},
        "pwned_marker": PWNED_MARKER,
        "skipped_keys": [k for k, t in sd.items() if t.dtype == torch.int64],
        "tensors": {k: describe(t) for k, t in sd.items() if t.dtype != torch.int64},
    }
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(HERE, n)) for n in os.listdir(HERE))
    print(f"torch {torch.__version__}: fixtures written to {HERE} ({total} bytes in total)")


if __name__ == "__main__":
    main()
