"""Plain requests and small talk in the patient's words: "help", "hi", "thanks", "👍"."""

import pytest

from bot.language.plain_words import build_vocabulary, plain_request
from bot.language.red_flag_triage import assess


@pytest.mark.parametrize(
    "message",
    [
        "help",
        "Help",
        "HELP!",
        "help me?",
        "Help me please",
        "help pls",
        "can you help me?",
        "I need help",
        "menu",
        "Menu",
        "the menu please",
        "main menu",
        "commands",
        "what can you do?",
        "how does this work?",
        "🆘",
        "SOS",
    ],
)
def test_help_in_plain_words(message):
    assert plain_request(message) == "help"


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("hi", "greeting"),
        ("Hi!", "greeting"),
        ("hello", "greeting"),
        ("Hello there", "greeting"),
        ("hey", "greeting"),
        ("hiya", "greeting"),
        ("good morning", "greeting"),
        ("Good morning!", "greeting"),
        ("good evening everyone", "greeting"),
        ("morning", "greeting"),
        ("hello bot", "greeting"),
        ("hi, how are you?", "greeting"),
        ("hello 👋", "greeting"),
        ("thanks", "thanks"),
        ("Thanks!", "thanks"),
        ("thank you", "thanks"),
        ("Thank you so much", "thanks"),
        ("thank you very much!", "thanks"),
        ("thanks a lot", "thanks"),
        ("many thanks", "thanks"),
        ("cheers", "thanks"),
        ("Cheers!", "thanks"),
        ("ta", "thanks"),
        ("thx", "thanks"),
        ("thanks for the help", "thanks"),
        ("Thanks, doc", "thanks"),
        ("thank you 🙏🏽", "thanks"),
        ("hi, thanks", "thanks"),
        ("ok thanks", "thanks"),
        ("ok", "ok"),
        ("OK", "ok"),
        ("okay 👍", "ok"),
        ("got it", "ok"),
        ("great", "ok"),
        ("bye", "ok"),
        ("👍", "ok"),
        ("🙂", "ok"),
        ("👍👍", "ok"),
        ("👍🏽", "ok"),
        ("❤️", "ok"),
        ("🙂 🙏", "ok"),
        ("😢", "emoji"),
        ("🤕", "emoji"),
        ("👍😢", "emoji"),
    ],
)
def test_small_talk(message, kind):
    assert plain_request(message) == kind


@pytest.mark.parametrize(
    "message",
    [
        "what is sciatica?",
        "hi, what is sciatica?",
        "help, my leg hurts",
        "thanks, can I take ibuprofen?",
        "hi, I can't feel when I need to pee",
        "hello, I wet myself today",
        "good morning, both my legs are numb",
        "Thanks, Sam",
        "my back is ok",
        "ok but my leg is worse",
        "?",
        "...",
        "please",
        "",
        None,
        "thanks " * 30,
    ],
)
def test_anything_more_is_not_small_talk(message):
    assert plain_request(message) is None


@pytest.mark.parametrize(
    "message",
    [
        "hi, I can't feel when I need to pee",
        "hello, I wet myself today",
        "thanks, but I can't feel the toilet paper when I wipe",
        "help! I can't control my bladder",
    ],
)
def test_a_red_flag_with_a_greeting_is_still_urgent(message):
    # Red flags are checked first (bot/handlers/routing.py), and small talk never claims them.
    assert assess(message).level == "urgent"
    assert plain_request(message) is None


def test_the_words_are_content():
    vocab = build_vocabulary(
        {
            "help": ["ayuda"],
            "greeting": ["hola"],
            "thanks": ["gracias"],
            "ok": ["vale"],
            "filler": ["muchas"],
            "emoji_ok": ["🙂"],
            "emoji_help": [],
        }
    )
    assert plain_request("Ayuda", vocab) == "help"
    assert plain_request("hola", vocab) == "greeting"
    assert plain_request("muchas gracias", vocab) == "thanks"
    assert plain_request("vale", vocab) == "ok"
    assert plain_request("help", vocab) is None
    assert plain_request("👍", vocab) == "emoji"
