"""Writes a tiny model the Dynamo mocker can serve offline: a WordLevel tokenizer, a chat template
and a llama-style config.json. No weights: the mocker only needs the tokenizer and the shape.

The files land in a Hugging Face hub cache (HF_HUB_CACHE) as the repo `tiny`, because the Dynamo
1.3 frontend looks a registered model up there by its served name, as it would after a download.
Run with the Dynamo venv's interpreter (it has tokenizers and transformers):

    .cache/dynamo-venv/bin/python dynamo_harness/tiny_model.py HUB_DIR

Importing this module needs neither: the harness reads MODEL and snapshot_dir from it.
"""

import json
import shutil
import sys
from pathlib import Path

MODEL = "tiny"  # the served model name, and its repo id in the hub cache
REVISION = "0" * 40  # the one snapshot; refs/main names it

# The mocker samples output token ids across the vocabulary; a vocabulary this large makes every
# sampled id decode to a visible word, so each streamed token carries content.
VOCAB_SIZE = 32000
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)


def snapshot_dir(hub: Path, repo: str = MODEL) -> Path:
    """Where a Hugging Face hub cache keeps the files of `repo`."""
    return hub / f"models--{repo.replace('/', '--')}" / "snapshots" / REVISION


def snapshot(hub: Path, repo: str) -> Path:
    """The snapshot directory of `repo` in the hub cache `hub`, created, with refs/main naming it."""
    directory = snapshot_dir(hub, repo)
    directory.mkdir(parents=True, exist_ok=True)
    (directory.parents[1] / "refs").mkdir(exist_ok=True)
    (directory.parents[1] / "refs" / "main").write_text(REVISION)
    return directory


def publish(files: Path, hub: Path, repo: str) -> Path:
    """Copy the model files in `files` into `hub` as `repo`; returns the snapshot directory."""
    directory = snapshot(hub, repo)
    for file in files.iterdir():
        shutil.copy(file, directory / file.name)
    return directory


def write(hub: Path) -> Path:
    """Write the model into the hub cache `hub` as MODEL; returns its snapshot directory."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<s>", "</s>"]
    vocab = {word: i for i, word in enumerate(specials + [f"w{i}" for i in range(VOCAB_SIZE - len(specials))])}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    fast.chat_template = CHAT_TEMPLATE
    directory = snapshot(hub, MODEL)
    fast.save_pretrained(str(directory))
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": VOCAB_SIZE,
        "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 4, "max_position_embeddings": 4096, "bos_token_id": 1, "eos_token_id": 2,
    }
    (directory / "config.json").write_text(json.dumps(config, indent=1))
    return directory


if __name__ == "__main__":
    write(Path(sys.argv[1]))
