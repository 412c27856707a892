"""The llama.cpp backend's chat-template renderer gives transformers' prompt, byte for byte."""

import struct

import pytest

from mur_graph.models.chat_template import render_chat_template
from mur_graph.models.embedded import find_embedded_gguf
from mur_graph.models.qwen import qwen_gguf_joined, qwen_gguf_path

transformers_templates = pytest.importorskip("transformers.utils.chat_template_utils")

# what a step prompt looks like: a system prompt, the question, steps so far left open to continue
CHATS = [
    [{"role": "user", "content": "What is 17 + 25?"}],
    [{"role": "system", "content": "Solve step by step."}, {"role": "user", "content": "Q?"}],
    [
        {"role": "system", "content": "Solve step by step."},
        {"role": "user", "content": "What is 17 + 25?"},
        {"role": "assistant", "content": "Step1: 17 + 25 = 42.\n"},
    ],
    [
        {"role": "user", "content": "Is this right?"},
        {"role": "assistant", "content": "Yes"},
        {"role": "user", "content": "Why?  "},
        {"role": "assistant", "content": "Step1: because "},
    ],
]
TEMPLATE_WITH_EXTRAS = (
    "{% for m in messages %}{% if m.role == 'tool' %}{{ raise_exception('no tools') }}{% endif %}"
    "{% if loop.index > 9 %}{% break %}{% endif %}<{{ m.role }}>{{ m.content | tojson }}\n{% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)


_SIZES = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
"""Bytes of GGUF's fixed-size value types (8 is a string, 9 an array)."""


def _gguf_template(path):
    """The GGUF header's `tokenizer.chat_template` (gguf's own reader takes ~10 s on the 1.5B's header)."""
    with open(path, "rb") as f:

        def read(fmt):
            return struct.unpack("<" + fmt, f.read(struct.calcsize(fmt)))[0]

        def string():
            return f.read(read("Q")).decode()

        def skip(kind):
            if kind == 8:
                f.seek(read("Q"), 1)
            elif kind == 9:
                inner, count = read("I"), read("Q")
                if inner in _SIZES:
                    f.seek(_SIZES[inner] * count, 1)
                else:
                    for _ in range(count):
                        skip(inner)
            else:
                f.seek(_SIZES[kind], 1)

        assert f.read(4) == b"GGUF" and read("I") == 3
        read("Q")  # tensors
        for _ in range(read("Q")):
            key, kind = string(), read("I")
            if key == "tokenizer.chat_template":
                return string()
            skip(kind)
    msg = f"{path} has no chat template"
    raise AssertionError(msg)


def _templates():
    found = {"inline": TEMPLATE_WITH_EXTRAS, "smollm2": _gguf_template(find_embedded_gguf())}
    if qwen_gguf_joined():
        found["qwen2.5-coder-1.5b"] = _gguf_template(qwen_gguf_path())
    return found


@pytest.fixture(scope="module")
def templates():
    return _templates()


@pytest.mark.parametrize("name", ["inline", "smollm2", "qwen2.5-coder-1.5b"])
@pytest.mark.parametrize("chat", CHATS, ids=range(len(CHATS)))
def test_the_rendering_equals_transformers(templates, name, chat):
    if name not in templates:
        pytest.skip(f"{name}'s GGUF is not installed (mur-graph models install {name})")
    template = templates[name]
    continue_final = chat[-1]["role"] == "assistant"
    variables = {"bos_token": "<s>", "eos_token": "</s>", "enable_thinking": False}
    ours = render_chat_template(
        template,
        chat,
        add_generation_prompt=not continue_final,
        continue_final_message=continue_final,
        **variables,
    )
    (theirs,), _ = transformers_templates.render_jinja_template(
        conversations=[chat],
        chat_template=template,
        add_generation_prompt=not continue_final,
        continue_final_message=continue_final,
        **variables,
    )
    assert ours == theirs
    if continue_final and name != "inline":  # (the inline one writes the content as JSON)
        assert ours.rstrip().endswith(chat[-1]["content"].rstrip())


def test_a_template_error_and_an_empty_conversation_to_continue_are_refused():
    import jinja2

    with pytest.raises(jinja2.TemplateError, match="no tools"):
        render_chat_template(
            TEMPLATE_WITH_EXTRAS, [{"role": "tool", "content": "x"}], add_generation_prompt=True
        )
    with pytest.raises(ValueError, match="the conversation is empty"):
        render_chat_template(
            TEMPLATE_WITH_EXTRAS, [], add_generation_prompt=False, continue_final_message=True
        )
    dropping = "{% for m in messages %}{{ m.role }}{% endfor %}"
    with pytest.raises(ValueError, match="drops part of the final message"):
        render_chat_template(
            dropping,
            [{"role": "assistant", "content": "Step1"}],
            add_generation_prompt=False,
            continue_final_message=True,
        )
