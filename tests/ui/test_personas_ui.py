"""Personas in the TUI: pick, edit with live validation, save, external changes and conflicts."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import OptionList

from tests.ui.helpers import FakeEngine, click, ready, wait_until
from tui.core.atomic import write_text_atomic
from tui.core.chat.sampling import Sampling
from tui.core.engine.llama import Engine
from tui.core.engine.values import LoadOptions
from tui.paths import get_paths
from tui.ui.app import AppConfig, LlmTuiApp, create_app
from tui.ui.dialogs.common import AskText, Choose, Confirm
from tui.ui.dialogs.new_persona import NewPersonaForm
from tui.ui.screens.chat import ChatScreen
from tui.ui.screens.persona_editor import PersonaEditor
from tui.ui.screens.persona_picker import PersonaPicker
from tui.ui.widgets.conversation import Notice, ReplyFooter
from tui.ui.widgets.toml_editor import TomlEditor


def real_app(model_path: Path, n_ctx: int = 2048) -> LlmTuiApp:
    return create_app(
        AppConfig(
            sampling=Sampling(temperature=0.0, max_tokens=16, seed=2),
            engine_factory=lambda: Engine(model_path, LoadOptions(n_ctx=n_ctx)),
        )
    )


async def pick(pilot, app: LlmTuiApp, persona_id: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("f3")
    await wait_until(pilot, lambda: isinstance(app.screen, PersonaPicker))
    options = app.screen.query_one(OptionList)
    options.highlighted = options.get_option_index(persona_id)
    await pilot.pause()


async def test_picking_a_persona_starts_a_new_session_with_its_system_message(model_path: Path) -> None:
    app = real_app(model_path)
    async with app.run_test(size=(110, 32)) as pilot:
        chat = await ready(pilot, app)
        await pick(pilot, app, "almo")
        preview = str(app.screen.query_one("#persona-preview").render())
        assert "Almo, a model developed by Allen AI" in preview
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(chat.query(Notice)))
        notice = str(chat.query_one(Notice).render())
        assert (
            "Persona “Almo (identity by system message)” chosen." in notice and "remembers nothing" in notice
        )
        assert chat.chat is not None and chat.chat.session.number == 2
        assert "Almo" in chat.sub_title
        chat.query_one("#input").insert("Who are you?")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: len(chat.query(ReplyFooter)) == 1)
        prompt = chat.chat.session.turns[0].prompt.text
        assert "You are Almo, a model developed by Allen AI." in prompt and "SmolLM" not in prompt


async def test_a_system_message_longer_than_the_context_cannot_be_chosen(model_path: Path) -> None:
    get_paths().user_personas.mkdir(parents=True)
    (get_paths().user_personas / "windbag.toml").write_text(
        f'name = "Windbag"\nsystem = """{"Always be extremely thorough. " * 80}"""\n'
    )
    app = real_app(model_path, n_ctx=256)
    async with app.run_test(size=(110, 32)) as pilot:
        await ready(pilot, app)
        await pick(pilot, app, "windbag")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PersonaPicker)  # refused: still open
        assert "exceeds the context of 256 tokens" in str(
            app.screen.query_one(OptionList).highlighted_option.prompt
        )  # type: ignore[union-attr]


async def test_edit_shows_the_error_line_then_saves_the_text_as_typed() -> None:
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(110, 32)) as pilot:
        await pick(pilot, app, "pirate")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, PersonaEditor))
        editor_screen = app.screen
        assert isinstance(editor_screen, PersonaEditor)
        area = editor_screen.query_one(TomlEditor)
        area.move_cursor((3, 0))
        area.insert("# my own pirate\ncolour = 3\n")
        await pilot.pause()
        assert area.error_line == 5
        assert (0, None, "llm-tui.error") in area._highlights[4]
        status = str(editor_screen.query_one("#editor-status").render())
        assert "line 5: unknown key `colour`" in status
        area.move_cursor((4, 0))
        area.delete((4, 0), (5, 0))
        await pilot.pause()
        assert area.error_line is None and "valid" in str(editor_screen.query_one("#editor-status").render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        saved = get_paths().user_personas / "pirate.toml"
        assert saved.read_text() == area.text and "# my own pirate\n" in saved.read_text()
        app.check_persona_files()
        assert app.personas.personas["pirate"].origin == "overridden"
        bundled = app.store.bundled_path("pirate")
        assert bundled is not None and "# my own pirate" not in bundled.read_text()


async def test_save_as_new_and_reset_to_bundled() -> None:
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(110, 32)) as pilot:
        await pick(pilot, app, "translator")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, PersonaEditor))
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: isinstance(app.screen, AskText))
        app.screen.query_one("#answer").value = "../evil"  # type: ignore[attr-defined]
        await pilot.press("enter")
        assert "not a valid persona id" in str(app.screen.query_one("#problem").render())
        app.screen.query_one("#answer").value = "spanish"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PersonaEditor))
        assert (get_paths().user_personas / "spanish.toml").is_file()
        assert not (get_paths().user_personas / "translator.toml").exists()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: isinstance(app.screen, Confirm))
        await click(pilot, "#yes")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        assert not (get_paths().user_personas / "spanish.toml").exists()


async def test_new_persona_from_fields_is_written_with_tomli_w() -> None:
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(110, 40)) as pilot:
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, PersonaPicker))
        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewPersonaForm))
        form = app.screen
        form.query_one("#name").value = 'Kind "critic"'  # type: ignore[attr-defined]
        form.query_one("#description").value = "Gentle feedback"  # type: ignore[attr-defined]
        form.query_one("#system").insert("Be kind.\nBe honest.")  # type: ignore[attr-defined]
        await click(pilot, "#create")
        await wait_until(pilot, lambda: isinstance(app.screen, PersonaEditor))
        persona = app.personas.personas["kind-critic"]
        assert persona.name == 'Kind "critic"' and persona.system == "Be kind.\nBe honest."


async def test_files_changed_on_disk_are_picked_up_without_a_restart() -> None:
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(110, 32)) as pilot:
        chat = await ready(pilot, app)
        folder = get_paths().user_personas
        folder.mkdir(parents=True)
        (folder / "poet.toml").write_text('name = "Poet"\nsystem = "Answer in verse."\n')
        await wait_until(pilot, lambda: "poet" in app.personas.personas, timeout=5)  # the 1 s poll
        await pick(pilot, app, "poet")
        await pilot.press("enter")
        await wait_until(
            pilot, lambda: chat.chat is not None and chat.chat.session.system == "Answer in verse."
        )
        (folder / "poet.toml").write_text('name = "Poet"\nsystem = "Answer in haiku."\n')
        await wait_until(pilot, lambda: app.personas.personas["poet"].system == "Answer in haiku.", timeout=5)
        assert chat.chat.session.system == "Answer in verse."  # the running session is not changed
        await pilot.press("ctrl+n")
        await wait_until(
            pilot, lambda: chat.chat is not None and chat.chat.session.system == "Answer in haiku."
        )


async def test_an_outside_change_during_unsaved_edits_asks_and_loses_nothing() -> None:
    folder = get_paths().user_personas
    folder.mkdir(parents=True)
    path = folder / "mine.toml"
    path.write_text('name = "Mine"\n')
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(110, 32)) as pilot:
        await pick(pilot, app, "mine")
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, PersonaEditor))
        editor = app.screen
        assert isinstance(editor, PersonaEditor)
        editor.query_one(TomlEditor).insert('description = "typed in the app"\n')
        write_text_atomic(path, 'name = "Mine"\nsystem = "typed in vim"\n')  # as vim saves
        await wait_until(pilot, lambda: isinstance(app.screen, Choose), timeout=5)
        await click(pilot, "#keep")
        await wait_until(pilot, lambda: app.screen is editor)
        assert "typed in the app" in editor.query_one(TomlEditor).text
        assert "typed in vim" in path.read_text()  # nothing written behind the user's back
        await pilot.press("ctrl+s")  # saving now asks again, since the disk changed
        await wait_until(pilot, lambda: isinstance(app.screen, Choose))
        await click(pilot, "#reload")
        await wait_until(pilot, lambda: app.screen is editor)
        assert (
            editor.query_one(TomlEditor).text
            == path.read_text()
            == 'name = "Mine"\nsystem = "typed in vim"\n'
        )


async def test_a_broken_file_is_listed_and_can_be_opened_to_fix_it() -> None:
    folder = get_paths().user_personas
    folder.mkdir(parents=True)
    (folder / "oops.toml").write_text('name = "Oops"\nsystem = 12\n')
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(110, 32)) as pilot:
        await pilot.press("f3")
        await wait_until(pilot, lambda: isinstance(app.screen, PersonaPicker))
        options = app.screen.query_one(OptionList)
        options.highlighted = options.option_count - 1
        await pilot.pause()
        assert "`system` must be a string" in str(options.highlighted_option.prompt)  # type: ignore[union-attr]
        await pilot.press("enter")
        assert isinstance(app.screen, PersonaPicker)  # cannot be chosen
        await pilot.press("e")
        await wait_until(pilot, lambda: isinstance(app.screen, PersonaEditor))
        assert app.screen.query_one(TomlEditor).error_line == 2


async def test_persona_option_and_palette_commands() -> None:
    app = create_app(AppConfig(persona="almo", engine_factory=FakeEngine))
    async with app.run_test(size=(110, 32)) as pilot:
        chat = await ready(pilot, app)
        assert chat.chat is not None and "You are Almo" in (chat.chat.session.system or "")
        titles = [command.title for command in app.get_system_commands(chat)]
        for expected in ("Personas", "New session", "Stop reply"):
            assert expected in titles
        await pilot.press("ctrl+p")
        await pilot.press(*"Personas")
        await wait_until(pilot, lambda: any(found.option_count for found in app.screen.query("CommandList")))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, PersonaPicker))


async def test_system_override_wins_until_a_persona_is_picked() -> None:
    app = create_app(AppConfig(persona="almo", system="You are Zed.", engine_factory=FakeEngine))
    async with app.run_test(size=(110, 32)) as pilot:
        chat = await ready(pilot, app)
        assert chat.chat is not None and chat.chat.session.system == "You are Zed."
        assert "custom system message" in chat.sub_title
        await pick(pilot, app, "pirate")
        await pilot.press("enter")
        await wait_until(pilot, lambda: "pirate" in (chat.chat.session.system or ""))  # type: ignore[union-attr]


async def test_a_personas_chat_template_file_is_used_in_the_tui_and_dropped_with_it(
    model_path: Path, llm_home: Path
) -> None:
    """Picking a persona with `chat_template_file` renders with that template; picking one
    without goes back to the model's own."""
    from tests.core.test_reasoning_replies import R1

    folder = get_paths().user_personas
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "thinker.toml").write_text(f'name = "Thinker"\nchat_template_file = "{R1}"\n')
    (folder / "broken.toml").write_text('name = "Broken"\nchat_template_file = "missing.jinja"\n')
    app = real_app(model_path)
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        assert chat.chat is not None
        engine = chat.chat.engine
        assert engine.info.template_name == "the model's own chat template"
        for persona, template in (
            ("thinker", f"the chat template from {R1}"),
            ("almo", "the model's own chat template"),
            ("broken", "the model's own chat template"),
        ):
            number = chat.chat.session.number
            await pick(pilot, app, persona)
            await pilot.press("enter")
            await wait_until(pilot, lambda: chat.chat is not None and chat.chat.session.number > number)  # noqa: B023
            assert chat.persona_id == persona and engine.info.template_name == template
            prompt = chat.chat.session.prepare(engine, "Hi").prompt
            assert prompt.template_name == template
            assert ("<｜Assistant｜>" in prompt.text) == (persona == "thinker")
        said = " ".join(str(n.message) for n in app._notifications)
        assert "missing.jinja" in said and "the model's own template is used" in said


async def test_a_personas_model_is_loaded_in_the_tui_as_in_the_cli(model_path: Path, llm_home: Path) -> None:
    """A persona's `model` chooses the model at start and when the persona is picked, as in
    `llm-tui ask --persona` (unless --model says otherwise: flags win in both)."""
    import os
    import subprocess
    import sys

    llm_home.mkdir(parents=True, exist_ok=True)
    own = llm_home / "own-copy.gguf"
    own.symlink_to(model_path)
    folder = get_paths().user_personas
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "modelled.toml").write_text(f'name = "Modelled"\nmodel = "{own}"\nsystem = "You are Vex."\n')
    (folder / "gone.toml").write_text('name = "Gone"\nmodel = "/nowhere/missing.gguf"\n')
    cli = subprocess.run(
        [sys.executable, "-m", "tui", "--persona", "gone", "prompt", "hi"],
        capture_output=True, text=True, timeout=120, env=os.environ.copy(),
    )  # fmt: skip
    assert cli.returncode == 1 and "/nowhere/missing.gguf" in cli.stderr
    app = create_app(AppConfig(persona="modelled", load=LoadOptions(n_ctx=1024)))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        assert chat.chat is not None and chat.chat.engine.info.name == "own-copy.gguf"
        assert chat.chat.engine.info.n_ctx == 1024  # the flags apply to the persona's model, as in the CLI
        await pick(pilot, app, "no-system")
        await pilot.press("enter")
        await wait_until(pilot, lambda: chat.chat is not None and chat.chat.session.system is None)
        assert chat.chat.engine.info.name == "own-copy.gguf"  # a persona without a model keeps the one loaded
    app = create_app(AppConfig(model=str(model_path), persona="no-system"))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        await pick(pilot, app, "modelled")
        await pilot.press("enter")
        await wait_until(pilot, lambda: chat.chat is not None and chat.chat.session.system == "You are Vex.")
        assert chat.chat.engine.info.name != "own-copy.gguf"  # --model was given: it wins, as in the CLI
    app = create_app(AppConfig(persona="no-system"))
    async with app.run_test(size=(100, 30)) as pilot:
        chat = await ready(pilot, app)
        assert chat.chat is not None and chat.chat.engine.info.name != "own-copy.gguf"
        await pick(pilot, app, "modelled")
        await pilot.press("enter")
        loaded = lambda: chat.chat is not None and chat.chat.engine.info.name == "own-copy.gguf"  # noqa: E731
        await wait_until(pilot, loaded)
        assert chat.chat is not None and chat.chat.session.system == "You are Vex."


async def test_the_preview_names_a_personas_template_and_its_variables() -> None:
    from tests.ui.helpers import FakeEngine
    from tui.paths import get_paths

    folder = get_paths().user_personas
    folder.mkdir(parents=True)
    (folder / "mine.jinja").write_text("{% for m in messages %}{{ m.content }}{% endfor %}")
    (folder / "templated.toml").write_text(
        'name = "Templated"\nchat_template_file = "mine.jinja"\n[template]\nenable_thinking = false\n'
    )
    app = create_app(AppConfig(engine_factory=FakeEngine))
    async with app.run_test(size=(110, 32)) as pilot:
        await ready(pilot, app)
        await pick(pilot, app, "templated")
        preview = str(app.screen.query_one("#persona-preview").render())
        assert "Chat template: mine.jinja (replaces the model's own)" in preview
        assert "Template variables: enable_thinking = False" in preview
        assert "this persona's template file decides" in preview and "model's own template" not in preview
