#!/usr/bin/env python3
"""Export the text and image encoders of a diffusion checkpoint to the ONNX files and specs that
`arr preprocess` runs (presets/encoders/flux.json, presets/encoders/qwen-image-edit.json).

Needs torch and transformers (the VAE export also needs diffusers). Runs on CPU; a GPU is not needed.

    python3 python/export_encoders.py flux            --checkpoint /models/FLUX.1-dev       --out /models/flux-onnx
    python3 python/export_encoders.py qwen-image-edit --checkpoint /models/Qwen-Image-Edit  --out /models/qwen-edit-onnx

The folder given as --out is what `preprocess.models` names. Besides the .onnx files and tokenizer.json
files it gets `encoders.json`, the specs matching this export (a copy of the preset with the numbers
that depend on the export filled in); point `preprocess.encoders` at it, or keep the preset when they
agree.

A bare export of the Hugging Face models does not give what the pipelines compute, so each one goes
through a small wrapper module:

- CLIP (FLUX): input_ids only, outputs the pooled output FluxPipeline keeps.
- T5 (FLUX): input_ids only. FluxPipeline calls T5 without an attention mask, so pad positions keep
  their hidden states; exporting with a mask input would compute something else.
- Qwen2.5-VL (Qwen-Image-Edit): takes the source image as NCHW pixels (already resized to the vision
  size and normalised) and cuts it into the flattened 14-pixel patches, two frames deep, that the
  Qwen2-VL image processor makes; `image_grid_thw` is fixed at export (the legacy exporter folds it into
  a constant), so one graph serves one source size. The output is the last hidden state
  (`hidden_states[-1]`), as the pipeline reads it. The prompt template and the 64-token prefix drop are
  applied by `arr preprocess` from the spec (tokenizer.template, outputs[].drop_prefix).
- VAE (Qwen-Image-Edit): the mode of the latent distribution (the pipeline's sample_mode="argmax");
  the latents_mean/latents_std normalisation is applied by `arr preprocess` from vae/config.json,
  copied next to the model. UNTESTED: diffusers was not available where this script was checked.

`torch.onnx.export(..., dynamo=False)` is used throughout: the dynamo exporter fails on T5 and
Qwen2.5-VL. Large encoders (T5-XXL, the 7B Qwen2.5-VL) are written with external data beside the .onnx.

`--parity-fixtures DIR` builds tiny random-weight models of the same classes instead of loading a
checkpoint, exports them with the same wrappers, and writes the inputs and the PyTorch outputs next to
them for test/preprocess/parity.test.ts (see test/fixtures/encoders/README.md).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from typing import Any, Dict, List, Tuple

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
PRESETS = os.path.join(os.path.dirname(HERE), "presets", "encoders")

# Qwen2-VL vision preprocessing constants (Qwen2VLImageProcessor defaults).
PATCH = 14
MERGE = 2
TEMPORAL = 2
FACTOR = PATCH * MERGE  # 28: the vision size is a multiple of this


def smart_size(height: int, width: int) -> Tuple[int, int]:
    """The size the Qwen2-VL image processor resizes to: each side rounded to a multiple of 28
    (within its default pixel bounds, which a 512x512 source never reaches)."""
    return max(FACTOR, round(height / FACTOR) * FACTOR), max(FACTOR, round(width / FACTOR) * FACTOR)


def patchify(pixels: torch.Tensor) -> torch.Tensor:
    """[1, 3, H, W] normalised pixels -> [grid_h * grid_w, 3 * 2 * 14 * 14], as the Qwen2-VL processor
    flattens one image (repeated to two frames)."""
    _, c, h, w = pixels.shape
    gh, gw = h // PATCH, w // PATCH
    frames = pixels.expand(TEMPORAL, c, h, w)
    x = frames.reshape(1, TEMPORAL, c, gh // MERGE, MERGE, PATCH, gw // MERGE, MERGE, PATCH)
    x = x.permute(0, 3, 6, 4, 7, 2, 1, 5, 8)
    return x.reshape(gh * gw, c * TEMPORAL * PATCH * PATCH)


class ClipPooled(torch.nn.Module):
    def __init__(self, model: Any):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor):
        out = self.model(input_ids=input_ids)
        return out.last_hidden_state, out.pooler_output


class T5NoMask(torch.nn.Module):
    def __init__(self, model: Any):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor):
        return self.model(input_ids=input_ids).last_hidden_state


class QwenVLTextImage(torch.nn.Module):
    def __init__(self, model: Any, height: int, width: int):
        super().__init__()
        self.model = model
        self.register_buffer("grid", torch.tensor([[1, height // PATCH, width // PATCH]], dtype=torch.long), persistent=False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, pixel_values: torch.Tensor):
        out = self.model(input_ids=input_ids, attention_mask=attention_mask, pixel_values=patchify(pixel_values),
                         image_grid_thw=self.grid, output_hidden_states=True)
        return out.hidden_states[-1]


class VaeMode(torch.nn.Module):
    def __init__(self, vae: Any):
        super().__init__()
        self.vae = vae

    def forward(self, sample: torch.Tensor):
        return self.vae.encode(sample).latent_dist.mode()


def export(module: torch.nn.Module, args: Tuple[torch.Tensor, ...], path: str, inputs: List[str], outputs: List[str],
           dynamic: Dict[str, Dict[int, str]], large: bool = False) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    module.eval()
    kwargs: Dict[str, Any] = dict(input_names=inputs, output_names=outputs, dynamic_axes=dynamic, opset_version=17, dynamo=False)
    if large:
        kwargs["external_data"] = True
    with torch.no_grad():
        try:
            torch.onnx.export(module, args, path, **kwargs)
        except TypeError:  # torch releases without external_data / dynamo keywords
            kwargs.pop("external_data", None)
            kwargs.pop("dynamo", None)
            torch.onnx.export(module, args, path, **kwargs)


def save_tokenizer(tokenizer: Any, path: str) -> None:
    """tokenizer.json of a fast tokenizer (what @huggingface/tokenizers loads)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        raise SystemExit("%s has no fast tokenizer; install tokenizers and load with use_fast=True" % type(tokenizer).__name__)
    backend.save(path)


def load_preset(name: str) -> List[Dict[str, Any]]:
    with open(os.path.join(PRESETS, name + ".json")) as f:
        return json.load(f)


def write_specs(out: str, specs: List[Dict[str, Any]]) -> None:
    with open(os.path.join(out, "encoders.json"), "w") as f:
        json.dump(specs, f, indent=2, ensure_ascii=False)
        f.write("\n")


def export_flux(checkpoint: str, out: str) -> None:
    from transformers import AutoTokenizer, CLIPTextModel, T5EncoderModel

    specs = load_preset("flux")
    clip_spec, t5_spec = specs
    clip = CLIPTextModel.from_pretrained(checkpoint, subfolder="text_encoder", torch_dtype=torch.float32)
    ids = torch.ones(1, clip_spec["tokenizer"]["max_length"], dtype=torch.long)
    export(ClipPooled(clip), (ids,), os.path.join(out, clip_spec["model"]), ["input_ids"], ["last_hidden_state", "pooler_output"], {"input_ids": {0: "batch"}})
    save_tokenizer(AutoTokenizer.from_pretrained(checkpoint, subfolder="tokenizer", use_fast=True), os.path.join(out, clip_spec["tokenizer"]["file"]))
    del clip

    t5 = T5EncoderModel.from_pretrained(checkpoint, subfolder="text_encoder_2", torch_dtype=torch.float32)
    ids = torch.ones(1, t5_spec["tokenizer"]["max_length"], dtype=torch.long)
    export(T5NoMask(t5), (ids,), os.path.join(out, t5_spec["model"]), ["input_ids"], ["last_hidden_state"], {"input_ids": {0: "batch"}}, large=True)
    save_tokenizer(AutoTokenizer.from_pretrained(checkpoint, subfolder="tokenizer_2", use_fast=True), os.path.join(out, t5_spec["tokenizer"]["file"]))
    write_specs(out, specs)


def export_qwen_image_edit(checkpoint: str, out: str, source_size: int) -> None:
    from transformers import AutoTokenizer, Qwen2_5_VLForConditionalGeneration

    specs = load_preset("qwen-image-edit")
    vl_spec, vae_spec = specs
    vh, vw = smart_size(source_size, source_size)
    vl_spec["image"]["size"] = [vw, vh]
    vl_spec["tokenizer"]["template"]["image_tokens"] = (vh // FACTOR) * (vw // FACTOR)
    vae_spec["image"]["size"] = [source_size, source_size]

    model = Qwen2_5_VLForConditionalGeneration.from_pretrained(checkpoint, subfolder="text_encoder", torch_dtype=torch.float32)
    tokenizer = AutoTokenizer.from_pretrained(checkpoint, subfolder="tokenizer", use_fast=True)
    template = vl_spec["tokenizer"]["template"]
    text = template["text"].replace("{image}", template["image_token"] * template["image_tokens"]).replace("{prompt}", "an example instruction")
    enc = tokenizer([text], return_tensors="pt")
    pixels = torch.zeros(1, 3, vh, vw)
    export(QwenVLTextImage(model, vh, vw), (enc.input_ids, enc.attention_mask, pixels), os.path.join(out, vl_spec["model"]),
           ["input_ids", "attention_mask", "pixel_values"], ["prompt_embeds"],
           {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}, "pixel_values": {0: "batch"}}, large=True)
    save_tokenizer(tokenizer, os.path.join(out, vl_spec["tokenizer"]["file"]))
    del model

    try:
        from diffusers import AutoencoderKLQwenImage  # type: ignore
    except ImportError:
        print("diffusers is not installed: the VAE encoder was not exported (pip install diffusers, then run again)", file=sys.stderr)
    else:
        vae = AutoencoderKLQwenImage.from_pretrained(checkpoint, subfolder="vae", torch_dtype=torch.float32)
        sample = torch.zeros(1, 3, 1, source_size, source_size)
        export(VaeMode(vae), (sample,), os.path.join(out, vae_spec["model"]), ["sample"], ["latent"], {"sample": {0: "batch"}})
    config = os.path.join(out, vae_spec["outputs"][0]["normalize"]["config"])
    os.makedirs(os.path.dirname(config), exist_ok=True)
    shutil.copyfile(os.path.join(checkpoint, "vae", "config.json"), config)
    write_specs(out, specs)


def main(argv: List[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("preset", choices=["flux", "qwen-image-edit"], nargs="?")
    ap.add_argument("--checkpoint", help="the pipeline's folder (diffusers layout: text_encoder/, tokenizer/, …)")
    ap.add_argument("--out", help="folder to write (what preprocess.models names)")
    ap.add_argument("--source-size", type=int, default=512, help="Qwen-Image-Edit: the source image side the VAE sees (the reference's explicit 512)")
    ap.add_argument("--parity-fixtures", metavar="DIR", help="write tiny random-weight parity fixtures to DIR instead")
    args = ap.parse_args(argv)
    if args.parity_fixtures:
        from parity_fixtures import write_parity_fixtures  # beside this file

        write_parity_fixtures(args.parity_fixtures)
        return 0
    if not args.preset or not args.checkpoint or not args.out:
        ap.error("give a preset, --checkpoint and --out (or --parity-fixtures DIR)")
    os.makedirs(args.out, exist_ok=True)
    if args.preset == "flux":
        export_flux(args.checkpoint, args.out)
    else:
        export_qwen_image_edit(args.checkpoint, args.out, args.source_size)
    print("wrote %s (specs in %s)" % (args.out, os.path.join(args.out, "encoders.json")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
