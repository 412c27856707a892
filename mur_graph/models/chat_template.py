"""Render a GGUF's chat template with Jinja, as transformers' `apply_chat_template` does, without it.

`ChatLlamaCpp` needs only the template renderer, not transformers (and its tokenizers, hub
client and safetensors): this module repeats what transformers 5's `render_jinja_template` does
for plain {"role", "content"} messages — a sandboxed environment with `trim_blocks` and
`lstrip_blocks`, the `loopcontrols` extension, its `tojson` (no HTML escaping), `raise_exception`
and `strftime_now` — and its way to leave a final assistant message open: tag the content, render,
cut at the tag. `tests/unit/test_chat_template.py` checks the output equals transformers', byte
for byte, on the default models' templates.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

__all__ = ["render_chat_template"]

_CONTINUE_TAG = "CONTINUE_FINAL_MESSAGE_TAG "
"""transformers' marker after the final message's content; the rendering is cut where it lands."""


@functools.lru_cache(maxsize=8)
def _compile(template: str) -> Any:
    """The template compiled in transformers' sandboxed environment (cached per template text)."""
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise jinja2.exceptions.TemplateError(message)

    def tojson(
        x: Any,
        ensure_ascii: bool = False,
        indent: Any = None,
        separators: Any = None,
        sort_keys: bool = False,
    ) -> str:
        return json.dumps(
            x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
        )

    def strftime_now(fmt: str) -> str:
        return datetime.now().strftime(fmt)

    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(template)


def render_chat_template(
    template: str,
    messages: Sequence[dict[str, str]],
    *,
    add_generation_prompt: bool,
    continue_final_message: bool = False,
    **variables: Any,
) -> str:
    """Render `messages` with `template`; `variables` are the template's other inputs (bos_token, …).

    With `continue_final_message`, the last message's content is left open: the text ends where
    that content ends (its trailing whitespace dropped when the template trims it), ready for the
    model to continue it.

    Raises:
        ValueError: `continue_final_message` on an empty conversation, or a template that drops
            the final message's text.
    """
    chat = [dict(message) for message in messages]
    if continue_final_message:
        if not chat:
            msg = "continue_final_message needs a final message to continue; the conversation is empty"
            raise ValueError(msg)
        final = chat[-1]["content"]
        chat[-1]["content"] = final + _CONTINUE_TAG
    rendered: str = _compile(template).render(
        messages=chat, tools=None, documents=None, add_generation_prompt=add_generation_prompt, **variables
    )
    if not continue_final_message:
        return rendered
    tag = _CONTINUE_TAG.strip()
    if final.strip() not in rendered or tag not in rendered:
        msg = "the chat template drops part of the final message, so it cannot be continued"
        raise ValueError(msg)
    at = rendered.rindex(tag)
    if rendered[at : at + len(_CONTINUE_TAG)] == _CONTINUE_TAG:
        return rendered[:at]  # the template kept the spacing
    return rendered[:at].rstrip()  # it trimmed trailing whitespace: trim the cut end too
