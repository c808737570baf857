"""Parity fixtures for test/preprocess/parity.test.ts: tiny random-weight models of the real classes
(CLIPTextModel, T5EncoderModel, Qwen2_5_VLForConditionalGeneration), exported with the wrappers of
export_encoders.py, with the tensors PyTorch computes for the same inputs by the pipelines' procedure.

Run on a machine with torch, transformers and tokenizers (no GPU needed, no network):

    python3 python/export_encoders.py --parity-fixtures test/fixtures/encoders

Writes into the folder: <name>/model.onnx, <name>/tokenizer.json, <name>.expected.safetensors (float32,
one tensor per stored name, no batch dimension), resize_source.png and resize.expected.safetensors, and
manifest.json tying them together. Everything is small (a few MB) so it can be committed.

NOT YET RUN: written where transformers was unavailable; the tiny configs may need adjusting to the
installed transformers (constructor arguments of Qwen2_5_VLConfig moved between releases).
"""
from __future__ import annotations

import json
import os
from typing import Any, Dict, List

import torch

from export_encoders import PATCH, FACTOR, ClipPooled, QwenVLTextImage, T5NoMask, export

SEED = 1234
WORDS = ["a", "red", "cat", "sits", "on", "the", "mat", "make", "it", "blue", "describe", "picture", "system", "user", "assistant"]
CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]


def word_tokenizer(specials: List[str], template: str | None, path: str) -> Dict[str, int]:
    """A WordLevel tokenizer.json over WORDS with `specials` (split out before whitespace splitting)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    vocab = {t: i for i, t in enumerate(specials + WORDS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.add_special_tokens(specials)
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    if template:
        tok.post_processor = processors.TemplateProcessing(single=template, special_tokens=[(t, vocab[t]) for t in ("<s>", "</s>") if t in template])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tok.save(path)
    return vocab


def save_expected(path: str, tensors: Dict[str, torch.Tensor]) -> None:
    from safetensors.torch import save_file

    save_file({k: v.detach().to(torch.float32).contiguous() for k, v in tensors.items()}, path)


def clip_fixture(out: str) -> Dict[str, Any]:
    from transformers import CLIPTextConfig, CLIPTextModel

    vocab = word_tokenizer(["<pad>", "<unk>", "<s>", "</s>"], "<s> $A </s>", os.path.join(out, "clip/tokenizer.json"))
    torch.manual_seed(SEED)
    config = CLIPTextConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                            max_position_embeddings=16, pad_token_id=vocab["<pad>"], bos_token_id=vocab["<s>"], eos_token_id=vocab["</s>"])
    model = CLIPTextModel(config).eval()
    text = "a red cat sits on the mat"
    ids = [vocab["<s>"]] + [vocab[w] for w in text.split()] + [vocab["</s>"]]
    ids += [vocab["<pad>"]] * (16 - len(ids))  # padding="max_length", as FluxPipeline tokenizes for CLIP
    input_ids = torch.tensor([ids])
    export(ClipPooled(model), (input_ids,), os.path.join(out, "clip/model.onnx"), ["input_ids"], ["last_hidden_state", "pooler_output"], {"input_ids": {0: "batch"}})
    with torch.no_grad():
        pooled = model(input_ids=input_ids).pooler_output[0]
    save_expected(os.path.join(out, "clip.expected.safetensors"), {"pooled_prompt_embeds": pooled})
    spec = {"name": "clip", "model": "clip/model.onnx", "tokenizer": {"file": "clip/tokenizer.json", "max_length": 16, "padding": "max_length", "pad_id": vocab["<pad>"]},
            "inputs": [{"name": "input_ids", "source": "input_ids", "dtype": "int64"}],
            "outputs": [{"name": "pooler_output", "save_as": "pooled_prompt_embeds", "dtype": "float32"}]}
    return {"name": "clip", "spec": spec, "text": text, "expected_ids": ids, "expected": "clip.expected.safetensors"}


def t5_fixture(out: str) -> Dict[str, Any]:
    from transformers import T5Config, T5EncoderModel

    vocab = word_tokenizer(["<pad>", "</s>", "<unk>"], "$A </s>", os.path.join(out, "t5/tokenizer.json"))
    torch.manual_seed(SEED + 1)
    config = T5Config(vocab_size=len(vocab), d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4, pad_token_id=vocab["<pad>"], eos_token_id=vocab["</s>"])
    model = T5EncoderModel(config).eval()
    text = "make the cat blue"
    ids = [vocab[w] for w in text.split()] + [vocab["</s>"]]
    ids += [vocab["<pad>"]] * (12 - len(ids))
    input_ids = torch.tensor([ids])
    export(T5NoMask(model), (input_ids,), os.path.join(out, "t5/model.onnx"), ["input_ids"], ["last_hidden_state"], {"input_ids": {0: "batch"}})
    with torch.no_grad():
        hidden = model(input_ids=input_ids).last_hidden_state[0]  # no mask, as FluxPipeline._get_t5_prompt_embeds
    save_expected(os.path.join(out, "t5.expected.safetensors"), {"prompt_embed": hidden})
    spec = {"name": "t5", "model": "t5/model.onnx", "tokenizer": {"file": "t5/tokenizer.json", "max_length": 12, "padding": "max_length", "pad_id": vocab["<pad>"]},
            "inputs": [{"name": "input_ids", "source": "input_ids", "dtype": "int64"}],
            "outputs": [{"name": "last_hidden_state", "save_as": "prompt_embed", "dtype": "float32"}]}
    return {"name": "t5", "spec": spec, "text": text, "expected_ids": ids, "expected": "t5.expected.safetensors"}


def qwen_fixture(out: str) -> Dict[str, Any]:
    from PIL import Image
    from transformers import Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration

    specials = ["<pad>", "<unk>", "<|im_start|>", "<|im_end|>", "<|vision_start|>", "<|vision_end|>", "<|image_pad|>", "<|video_pad|>"]
    vocab = word_tokenizer(specials, None, os.path.join(out, "qwen/tokenizer.json"))
    size = 56  # a multiple of 28: the processor would not resize it
    image_tokens = (size // FACTOR) ** 2
    torch.manual_seed(SEED + 2)
    config = Qwen2_5_VLConfig(
        vision_config={"depth": 2, "hidden_size": 32, "intermediate_size": 64, "num_heads": 2, "out_hidden_size": 64, "patch_size": PATCH,
                       "spatial_merge_size": 2, "temporal_patch_size": 2, "window_size": 56, "fullatt_block_indexes": [1], "in_channels": 3},
        text_config={"vocab_size": len(vocab), "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
                     "num_key_value_heads": 2, "max_position_embeddings": 512, "rope_scaling": {"type": "mrope", "mrope_section": [2, 2, 4]}},
        image_token_id=vocab["<|image_pad|>"], video_token_id=vocab["<|video_pad|>"],
        vision_start_token_id=vocab["<|vision_start|>"], vision_end_token_id=vocab["<|vision_end|>"],
    )
    model = Qwen2_5_VLForConditionalGeneration(config).eval()
    template = "<|im_start|> system describe the picture <|im_end|> <|im_start|> user <|vision_start|> {image} <|vision_end|> {prompt} <|im_end|> <|im_start|> assistant"
    drop = 7  # the tokens before <|vision_start|>: the fixture's stand-in for the pipeline's 64
    prompt = "make it blue"
    text = template.replace("{image}", "<|image_pad|> " * image_tokens).replace("{prompt}", prompt)
    ids = [vocab[t] for t in text.split()]
    assert ids[drop] == vocab["<|vision_start|>"]
    input_ids = torch.tensor([ids])
    mask = torch.ones_like(input_ids)
    # The source image at the vision size, so both sides see identical pixel_values (resize is tested apart).
    g = torch.Generator().manual_seed(SEED + 3)
    rgb = (torch.rand(size, size, 3, generator=g) * 255).round().to(torch.uint8)
    Image.fromarray(rgb.numpy()).save(os.path.join(out, "qwen_source.png"))
    pixels = (rgb.permute(2, 0, 1).float() / 255 - torch.tensor(CLIP_MEAN)[:, None, None]) / torch.tensor(CLIP_STD)[:, None, None]
    pixels = pixels[None]
    wrapper = QwenVLTextImage(model, size, size).eval()
    export(wrapper, (input_ids, mask, pixels), os.path.join(out, "qwen/model.onnx"), ["input_ids", "attention_mask", "pixel_values"], ["prompt_embeds"],
           {"input_ids": {0: "batch", 1: "seq"}, "attention_mask": {0: "batch", 1: "seq"}, "pixel_values": {0: "batch"}})
    pad_to = 96
    with torch.no_grad():
        hidden = wrapper(input_ids, mask, pixels)[0]
    # The pipeline: keep the masked-in rows, drop the template prefix, zero-pad; the mask counts what is kept.
    kept = hidden[mask[0].bool()][drop:]
    padded = torch.zeros(pad_to, hidden.shape[-1])
    padded[: kept.shape[0]] = kept
    attention = torch.zeros(pad_to, dtype=torch.long)
    attention[: kept.shape[0]] = 1
    save_expected(os.path.join(out, "qwen.expected.safetensors"), {"prompt_embed": padded, "prompt_attention_mask": attention})
    spec = {"name": "qwen", "model": "qwen/model.onnx",
            "tokenizer": {"file": "qwen/tokenizer.json", "max_length": 512, "padding": "longest", "pad_id": vocab["<pad>"],
                          "template": {"text": template, "image_token": "<|image_pad|> ", "image_tokens": image_tokens}},
            "image": {"size": [size, size], "resize": "fill", "mean": CLIP_MEAN, "std": CLIP_STD, "layout": "nchw"},
            "inputs": [{"name": "input_ids", "source": "input_ids", "dtype": "int64"}, {"name": "attention_mask", "source": "attention_mask", "dtype": "int64"},
                       {"name": "pixel_values", "source": "pixel_values", "dtype": "float32"}],
            "outputs": [{"name": "prompt_embeds", "save_as": "prompt_embed", "dtype": "float32", "drop_prefix": drop, "pad_to": pad_to}],
            "save_mask_as": "prompt_attention_mask"}
    return {"name": "qwen", "spec": spec, "text": prompt, "image": "qwen_source.png", "expected_ids": ids, "expected_original_length": int(kept.shape[0]),
            "expected": "qwen.expected.safetensors"}


def resize_fixture(out: str) -> Dict[str, Any]:
    """PIL's bicubic resize of a 97x61 image to 56x56 (what the Qwen2-VL processor does), normalised."""
    from PIL import Image

    g = torch.Generator().manual_seed(SEED + 4)
    rgb = (torch.rand(61, 97, 3, generator=g) * 255).round().to(torch.uint8)
    Image.fromarray(rgb.numpy()).save(os.path.join(out, "resize_source.png"))
    resized = Image.fromarray(rgb.numpy()).resize((56, 56), Image.BICUBIC)
    arr = torch.tensor(list(resized.getdata()), dtype=torch.float32).reshape(56, 56, 3).permute(2, 0, 1) / 255
    norm = (arr - torch.tensor(CLIP_MEAN)[:, None, None]) / torch.tensor(CLIP_STD)[:, None, None]
    save_expected(os.path.join(out, "resize.expected.safetensors"), {"pixel_values": norm})
    return {"source": "resize_source.png", "size": [56, 56], "mean": CLIP_MEAN, "std": CLIP_STD, "expected": "resize.expected.safetensors"}


def write_parity_fixtures(out: str) -> None:
    import transformers

    os.makedirs(out, exist_ok=True)
    manifest = {
        "generated_by": "python/export_encoders.py --parity-fixtures",
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "encoders": [clip_fixture(out), t5_fixture(out), qwen_fixture(out)],
        "resize": resize_fixture(out),
    }
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=2)
        f.write("\n")
    print("wrote parity fixtures to %s" % out)
