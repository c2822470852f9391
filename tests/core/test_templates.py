"""Our template rendering matches transformers' apply_chat_template, template by template."""

from __future__ import annotations

from pathlib import Path

import pytest
from transformers.utils.chat_template_utils import render_jinja_template

from tests.char_tokenizer import CharTokenizer
from tui.core.models import gguf
from tui.core.prompt.build import FOLD_NOTE, build_prompt
from tui.core.prompt.messages import Message
from tui.core.prompt.template import ChatTemplate, TemplateRenderError

TEMPLATES = Path(__file__).parent.parent / "data" / "templates"

# (template file, bos token, eos token, supports a system role)
FAMILIES = {
    "llama-3.2": ("<|begin_of_text|>", "<|eot_id|>", True),
    "qwen2.5": ("", "<|im_end|>", True),
    "gemma-2": ("<bos>", "<eos>", False),
    "phi-3.5": ("<s>", "<|endoftext|>", True),
    "mistral-nemo": ("<s>", "</s>", True),
}

CONVERSATIONS = {
    "single": [Message("user", "Who are you?")],
    "system": [
        Message("system", "You are Almo, a model developed by Allen AI."),
        Message("user", "Who are you?"),
    ],
    "multi-turn": [
        Message("system", "Answer tersely. Ünïcödé is fine: 日本語."),
        Message("user", "  Name a prime.  "),
        Message("assistant", "Seven."),
        Message("user", 'Another one, with a "quote" and a {brace}?'),
    ],
}


def _template(name: str) -> ChatTemplate:
    bos, eos, _ = FAMILIES[name]
    return ChatTemplate((TEMPLATES / f"{name}.jinja").read_text(), name, bos, eos)


def reference(chosen: ChatTemplate, messages: list[Message], **options: bool) -> str:
    """What transformers renders (``add_generation_prompt``, ``continue_final_message``, ...), with
    the template's own variables: the reference every rendering test compares with."""
    rendered, _ = render_jinja_template(
        conversations=[[m.as_dict(chosen.thinking_style) for m in messages]],
        chat_template=chosen.source,
        bos_token=chosen.bos_token,
        eos_token=chosen.eos_token,
        **options,
        **dict(chosen.variables),
    )
    return str(rendered[0])


def _smollm2(model_path: Path) -> ChatTemplate:
    source = gguf.read_metadata(model_path)["tokenizer.chat_template"]
    return ChatTemplate(source, "smollm2", "<|im_start|>", "<|im_end|>")


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("conversation", sorted(CONVERSATIONS))
@pytest.mark.parametrize("add_generation_prompt", [True, False])
def test_matches_transformers(family: str, conversation: str, add_generation_prompt: bool) -> None:
    template = _template(family)
    messages = CONVERSATIONS[conversation]
    if messages[0].role == "system" and not FAMILIES[family][2]:
        with pytest.raises(TemplateRenderError, match="System role not supported"):
            template.render(messages, add_generation_prompt)
        with pytest.raises(Exception, match="System role not supported"):
            reference(template, messages, add_generation_prompt=add_generation_prompt)
        return
    ours = template.render(messages, add_generation_prompt)
    assert ours == reference(template, messages, add_generation_prompt=add_generation_prompt)
    assert ours  # a template that rendered nothing would match trivially


@pytest.mark.parametrize("conversation", sorted(CONVERSATIONS))
def test_smollm2_from_the_gguf_matches_transformers(model_path: Path, conversation: str) -> None:
    template = _smollm2(model_path)
    messages = CONVERSATIONS[conversation]
    assert template.render(messages) == reference(template, messages, add_generation_prompt=True)


def test_smollm2_injects_its_default_identity_without_a_system_message(model_path: Path) -> None:
    text = _smollm2(model_path).render([Message("user", "Who are you?")])
    assert "You are a helpful AI assistant named SmolLM, trained by Hugging Face" in text
    with_system = _smollm2(model_path).render(CONVERSATIONS["system"])
    assert "SmolLM" not in with_system
    assert "You are Almo" in with_system


def test_llama_injects_the_date_and_knowledge_cutoff() -> None:
    text = _template("llama-3.2").render(CONVERSATIONS["single"])
    assert "Cutting Knowledge Date: December 2023" in text
    assert "Today Date: " in text


def test_gemma_gets_the_system_message_folded_into_the_first_user_turn_visibly() -> None:
    prompt = build_prompt(_template("gemma-2"), CONVERSATIONS["system"], CharTokenizer())
    assert FOLD_NOTE in prompt.notes
    assert "<start_of_turn>user\nYou are Almo, a model developed by Allen AI.\n\nWho are you?" in prompt.text
    system_span, user_span = prompt.spans
    assert system_span is not None and user_span is not None
    assert prompt.text[system_span.start : system_span.end] == CONVERSATIONS["system"][0].content
    assert system_span.end < user_span.start


def test_mistral_moves_the_system_text_and_spans_still_find_it() -> None:
    prompt = build_prompt(_template("mistral-nemo"), CONVERSATIONS["multi-turn"], CharTokenizer())
    for message, span in zip(prompt.messages, prompt.spans, strict=True):
        assert span is not None
        assert prompt.text[span.start : span.end] == message.content.strip()


def test_a_template_error_names_the_template() -> None:
    broken = ChatTemplate("{% for m in messages %}", "broken one")
    with pytest.raises(TemplateRenderError, match="broken one"):
        broken.render(CONVERSATIONS["single"])


def test_the_sandbox_refuses_python_internals() -> None:
    sneaky = ChatTemplate("{{ messages.__class__.__mro__ }}", "sneaky")
    with pytest.raises(TemplateRenderError):
        sneaky.render(CONVERSATIONS["single"])


def test_a_model_without_a_template_falls_back_to_a_named_format() -> None:
    from tui.core.prompt.template import fallback_template

    template = fallback_template(eos_token="</s>")
    prompt = build_prompt(template, CONVERSATIONS["system"], CharTokenizer())
    assert template.is_fallback and "chatml" in template.name
    assert prompt.notes and "No chat template in the model file" in prompt.notes[0]
    assert prompt.text.startswith("<|im_start|>system\nYou are Almo")
    assert prompt.text.endswith("<|im_start|>assistant\n")
