"""Writes a tiny model directory the Dynamo mocker can serve offline: a WordLevel tokenizer,
a chat template and a llama-style config.json. No weights: the mocker only needs the tokenizer
and the shape. Run with the Dynamo venv's interpreter (it has tokenizers and transformers):

    .cache/dynamo-venv/bin/python dynamo_harness/tiny_model.py DIR
"""

import json
import sys
from pathlib import Path

# The mocker samples output token ids across the vocabulary; a vocabulary this large makes every
# sampled id decode to a visible word, so each streamed token carries content.
VOCAB_SIZE = 32000
CHAT_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }} {% endfor %}"
    "{% if add_generation_prompt %}assistant: {% endif %}"
)


def write(directory: Path) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", "<s>", "</s>"]
    vocab = {word: i for i, word in enumerate(specials + [f"w{i}" for i in range(VOCAB_SIZE - len(specials))])}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.decoder = decoders.WordPiece(prefix="##")  # joins words with spaces
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    fast.chat_template = CHAT_TEMPLATE
    directory.mkdir(parents=True, exist_ok=True)
    fast.save_pretrained(str(directory))
    config = {
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": VOCAB_SIZE,
        "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4,
        "num_key_value_heads": 4, "max_position_embeddings": 4096, "bos_token_id": 1, "eos_token_id": 2,
    }
    (directory / "config.json").write_text(json.dumps(config, indent=1))


if __name__ == "__main__":
    write(Path(sys.argv[1]))
