"""The pre-query text: a model's own chat template rendered up to where a user message begins.

Nothing is hard-coded per model family: the template renders a conversation whose last user
message is a sentinel, and the text is cut there. What follows the sentinel (up to the next
line break) is what ends a user turn, the stop string of the query step.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from camelid.errors import UsageError

SENTINEL = "MAGPIEQUERYSENTINEL"  # one word, no spaces: templates that trim content keep it


@dataclass
class ChatTemplate:
    """A tokenizer's chat template, as text in and text out."""

    tokenizer: Any
    name: str  # the model it came from, for messages

    def render(self, conversation: list[dict[str, str]]) -> str:
        try:
            text = self.tokenizer.apply_chat_template(
                conversation, tokenize=False, add_generation_prompt=False
            )
        except Exception as exc:  # noqa: BLE001  a template's own error names the model
            raise UsageError(f"{self.name}: its chat template failed to render: {exc}") from None
        return text if isinstance(text, str) else str(text)

    def pre_query(self, history: list[dict[str, str]], system: str | None = None) -> str:
        """What the model is given to write the next user message: the conversation so far
        (empty for the first query), rendered, up to where the new user message starts."""
        head, _ = self._split(history, system)
        # A tokenizer that adds BOS when encoding would double a BOS the template wrote.
        bos = getattr(self.tokenizer, "bos_token", None)
        if bos and head.startswith(bos) and _adds_bos(self.tokenizer):
            head = head[len(bos) :]
        return head

    def end_of_turn(self) -> str:
        """The text that ends a user turn (e.g. `<|im_end|>`, `<end_of_turn>`, `[/INST]`)."""
        _, tail = self._split([], None)
        return end_marker(tail)

    def hash(self, system: str | None) -> str:
        """Names what the query step sees, so a resumed run with another template is refused."""
        blob = f"{self.pre_query([], system)}\0{self.end_of_turn()}".encode()
        return hashlib.sha256(blob).hexdigest()[:12]

    def _split(self, history: list[dict[str, str]], system: str | None) -> tuple[str, str]:
        conversation = ([{"role": "system", "content": system}] if system else []) + history
        text = self.render([*conversation, {"role": "user", "content": SENTINEL}])
        if text.count(SENTINEL) != 1:
            raise UsageError(
                f"{self.name}: its chat template does not show a user message as written; "
                "cannot find where a user message begins"
            )
        head, tail = text.split(SENTINEL)
        return head, tail


def end_marker(tail: str) -> str:
    """The first line of what follows the user's text, stripped: a prefix of the end-of-turn
    text whatever comes after it (an assistant header, a blank line)."""
    for line in tail.splitlines():
        if line.strip():
            return line.strip()
    return ""


def _adds_bos(tokenizer: Any) -> bool:
    bos_id = getattr(tokenizer, "bos_token_id", None)
    try:
        ids = tokenizer.encode("a")
    except Exception:  # noqa: BLE001
        return False
    return bos_id is not None and bool(ids) and ids[0] == bos_id


def load_template(model_dir: str, name: str | None = None) -> ChatTemplate:
    """The chat template of a local model directory (or hub id transformers can reach);
    a model without one is an error naming it."""
    from transformers import AutoTokenizer

    label = name or model_dir
    try:
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
    except (OSError, ValueError) as exc:
        raise UsageError(
            f"{label}: cannot read its tokenizer for the chat template: {exc}"
        ) from None
    if not getattr(tokenizer, "chat_template", None):
        raise UsageError(
            f"{label}: the model has no chat template; magpie needs an aligned chat model whose "
            "template shows where a user message begins"
        )
    return ChatTemplate(tokenizer, label)
