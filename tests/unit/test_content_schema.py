"""Every content file is checked against its schema; a broken one is named in one line."""

import shutil

import pytest

from bot.content import PACKAGE_DIR, ContentError, check_file

FILES = sorted(p.name for p in PACKAGE_DIR.iterdir() if p.suffix in (".yaml", ".json"))


@pytest.fixture
def content(tmp_path):
    """A copy of the shipped content that a test may break."""
    for name in FILES:
        shutil.copy(PACKAGE_DIR / name, tmp_path / name)
    return tmp_path


def broken(path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def error_of(path) -> str:
    with pytest.raises(ContentError) as err:
        check_file(path)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"content error: {path.name}")
    return message


@pytest.mark.parametrize("name", FILES)
def test_the_shipped_content_fits_its_schema(name):
    assert check_file(PACKAGE_DIR / name) is not None


def test_a_yaml_file_that_does_not_parse_is_named_with_its_line(content):
    path = content / "red_flags.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[40] = lines[40] + ' "unclosed'
    path.write_text("\n".join(lines), encoding="utf-8")
    message = error_of(path)
    assert "not valid YAML" in message and "line " in message


def test_a_json_file_that_does_not_parse_is_named_with_its_line(content):
    path = content / "red_flag_model.json"
    broken(path, '"ask_threshold":', '"ask_threshold" ')
    message = error_of(path)
    assert "line 3" in message and "not valid JSON" in message


def test_a_missing_file_is_named(content):
    (content / "safety.yaml").unlink()
    assert "file not found" in error_of(content / "safety.yaml")


def test_an_faq_entry_without_its_answer_names_the_entry_and_the_line(content):
    path = content / "faq.yaml"
    broken(path, "    answer: |", "    answr: |")
    message = error_of(path)
    # The first entry starts on line 30 of the shipped file.
    assert "line 30 (entries[0].answer): Field required" in message


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("kind: answer", "kind: maybe", "entries[0].kind"),
        ("  - id: what-is-sciatica", "  - id: What Is Sciatica", "entries[0].id"),
        ("related: [sciatica-symptoms,", "related: [no-such-entry,", "'no-such-entry' does not"),
        ('topic: "What is sciatica?"', 'topic: ""', "entries[0].topic"),
    ],
)
def test_faq_entries_are_checked(content, old, new, expected):
    path = content / "faq.yaml"
    broken(path, old, new)
    assert expected in error_of(path)


def test_a_message_with_a_placeholder_the_code_does_not_fill_is_named(content):
    path = content / "messages.yaml"
    broken(path, "Hello! I am the recovery diary of {clinic}.", "Hi {patient}, I am {clinic}.")
    message = error_of(path)
    assert "(start_no_code): unknown placeholder {patient}" in message
    assert message.split(",")[1].strip().startswith("line ")


def test_a_message_the_code_needs_may_not_be_left_out(content):
    path = content / "messages.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("\nbad_time: |")
    end = text.index("\nask_timezone: |")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    assert "message 'bad_time' is missing" in error_of(path)


def test_a_stray_brace_in_a_message_is_named(content):
    path = content / "messages.yaml"
    broken(path, "unknown_command: Sorry,", "unknown_command: Sorry {,")
    assert "(unknown_command): not a valid message template" in error_of(path)


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        ("red_flags.yaml", "window_words: ", "window_words: -", "negation.window_words"),
        ("red_flags.yaml", "  - kind: bladder_bowel", "  - kind: bladder", "kinds[0].kind"),
        ("safety.yaml", "  emergency: ", "  emergncy: ", "routes"),
        ("safety.yaml", 'reviewed: "2026-12-03"', 'reviewed: "last week"', "reviewed"),
        ("red_flag_model.yaml", "unclear_reason:", "unclear:", "unclear"),
        ("red_flag_model.json", '"ask_threshold": 0.', '"ask_threshold": 1', "ask_threshold"),
    ],
)
def test_other_files_are_checked(content, name, old, new, expected):
    path = content / name
    broken(path, old, new)
    assert expected in error_of(path)
