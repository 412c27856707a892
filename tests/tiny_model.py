"""A tiny randomly initialised Llama with a byte-level BPE tokenizer, built in memory in seconds.

Real transformers code paths (cache, generate, streaming) without loading weights: for unit tests
of ChatTransformers' mechanics. Its text is random words; what it says is not the point.
"""

from functools import cache

CORPUS = ["the cat sat on a mat", "and then it ran far away from home", "Step1: 17 + 25 = 42"]


@cache
def tiny_pipeline():
    """A langchain-huggingface pipeline over a 2-layer Llama with hidden size 32 (seeded weights)."""
    import torch
    from langchain_huggingface import HuggingFacePipeline
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast, pipeline

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<unk>", "<s>", "</s>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(CORPUS * 4, trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, unk_token="<unk>", bos_token="<s>", eos_token="</s>"
    )
    tokenizer.chat_template = "{% for m in messages %}{{ m['role'] }} {{ m['content'] }} {% endfor %}"
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=backend.get_vocab_size(),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=256,
        bos_token_id=1,
        eos_token_id=2,
    )
    model = LlamaForCausalLM(config).eval()
    generator = pipeline("text-generation", model=model, tokenizer=tokenizer)
    return HuggingFacePipeline(pipeline=generator, model_id="tiny-llama")
