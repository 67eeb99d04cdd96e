"""Carrier keywords: what clients really text, and what each must mean."""

from __future__ import annotations

import pytest

from customers.services.keywords import keyword_match, keyword_of

BODIES = [
    # Stops, alone or with a few words of courtesy.
    ("STOP", "stop"),
    ("stop", "stop"),
    ("  Stop  ", "stop"),
    ("Stop.", "stop"),
    ("STOP!!", "stop"),
    ("Stop please", "stop"),
    ("please stop.", "stop"),
    ("stop thank you", "stop"),
    ("Stop, thanks!", "stop"),
    ("Please STOP thank you very much", "stop"),
    ("STOP ALL", "stop"),
    ("stopall", "stop"),
    ("Unsubscribe", "stop"),
    ("unsubscribe me please", "stop"),
    ("CANCEL", "stop"),
    ("Cancel.", "stop"),
    ("end", "stop"),
    ("QUIT", "stop"),
    ("Revoke", "stop"),
    ("OPTOUT", "stop"),
    ("opt-out", "stop"),
    ("Opt out please", "stop"),
    ("Stop texting me", "stop"),
    ("stop sending me these messages", "stop"),
    ("Stop 🛑", "stop"),
    ("STOP merci", "stop"),
    ("Hi, stop please", "stop"),
    ("Stóp", "stop"),
    # Opting back in.
    ("START", "start"),
    ("start please", "start"),
    ("Unstop", "start"),
    ("YES", "start"),
    ("Yes!", "start"),
    # Help.
    ("HELP", "help"),
    ("help?", "help"),
    ("Info", "help"),
    ("INFO please", "help"),
    # Sentences: for the associate, never a keyword.
    ("don't stop sending me offers", None),
    ("Don’t stop!", None),
    ("I can't stop thinking about that dress", None),
    ("when does the sale end?", None),
    ("Is the store open until the end of the day?", None),
    ("cancel my appointment tomorrow", None),
    ("Can I cancel my fitting?", None),
    ("Please stop by the store and pick it up", None),
    ("stop sending me offers", None),
    ("Yes please hold the size 38!", None),
    ("I need help choosing a size", None),
    ("Do you have more info on the trench?", None),
    ("Start my alteration please", None),
    ("stop start", None),
    ("Thanks!", None),
    ("", None),
    ("😍😍", None),
    ("No", None),
    ("Will the sale end soon? Please let me know", None),
    ("quit it, that's hilarious", None),
]


def test_the_table_is_long_enough():
    assert len(BODIES) >= 40


@pytest.mark.parametrize(("body", "expected"), BODIES)
def test_keyword_of(body, expected):
    assert keyword_of(body) == expected


def test_the_word_read_tells_yes_from_start():
    assert keyword_match("Yes please").word == "yes"
    assert keyword_match("START").word == "start"
