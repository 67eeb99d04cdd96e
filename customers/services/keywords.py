"""Carrier keywords in a client's text: STOP, START, HELP, the way carriers expect them.

`keyword_of(body)` is pure (no database): it says whether a text is a keyword, and which.

The rule, in words:

1. The text is normalised: accents, case, apostrophes ("don't" -> "dont"), punctuation
   and emoji go; "STOP ALL" and "opt-out" count as the one words STOPALL and OPTOUT.
2. A few words of courtesy around the keyword are dropped ("please", "thanks", "thank
   you", "ok", "hi", "now", "merci"...), at most `MAX_COURTESY_WORDS` of them.
3. What is left must be exactly one keyword:
   - stop: STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, REVOKE, OPTOUT;
   - start: START, UNSTOP, YES;
   - help: HELP, INFO.
   STOP, STOPALL, UNSUBSCRIBE, REVOKE and OPTOUT may also be followed by words about our
   texts themselves ("stop texting me", "unsubscribe me from these messages").
4. Anything else is a sentence, not a keyword, and goes to the client's associate as
   a reply: "don't stop sending me offers", "when does the sale end?", and "cancel my
   appointment tomorrow" (carriers treat a text that is exactly CANCEL as a stop; a
   sentence that cancels an appointment is for the associate, who can do it, and a text
   that says only "Cancel" is a stop). A negation is never courtesy, so "don't stop"
   and "I can't stop thinking about that dress" are never stops.

Missing a stop a carrier would honour is worse than reading a sentence as a stop, so the
words a carrier honours alone are honoured alone; everything longer must be unambiguous.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

Keyword = Literal["stop", "start", "help"]

KEYWORDS: dict[str, Keyword] = {
    **dict.fromkeys(
        ["stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"], "stop"
    ),
    **dict.fromkeys(["start", "unstop", "yes"], "start"),
    **dict.fromkeys(["help", "info"], "help"),
}

# Stop words that may be followed by words about the texts themselves.
STOP_WITH_OBJECT = frozenset({"stop", "stopall", "unsubscribe", "revoke", "optout"})
ABOUT_OUR_TEXTS = frozenset(
    {
        "me",
        "texting",
        "texts",
        "text",
        "messaging",
        "messages",
        "message",
        "sms",
        "sending",
        "these",
        "this",
        "them",
        "the",
        "all",
        "from",
        "of",
        "your",
        "to",
    }
)

COURTESY = frozenset(
    {
        "please",
        "pls",
        "plz",
        "plse",
        "thanks",
        "thank",
        "thankyou",
        "thx",
        "ty",
        "you",
        "very",
        "much",
        "kindly",
        "ok",
        "okay",
        "k",
        "hi",
        "hello",
        "hey",
        "sorry",
        "now",
        "asap",
        "just",
        "sir",
        "madam",
        "merci",
        "svp",
        "stp",
    }
)
MAX_COURTESY_WORDS = 5

# Pairs of words that carriers read as one keyword.
COMPOUNDS = {("stop", "all"): "stopall", ("opt", "out"): "optout", ("un", "stop"): "unstop"}


@dataclass(frozen=True)
class KeywordMatch:
    kind: Keyword
    # The keyword as read ("stop", "yes"...): YES is also an ordinary answer.
    word: str


def words_of(body: str) -> list[str]:
    """The text's words, normalised: no accents, no case, no punctuation, no emoji."""
    text = unicodedata.normalize("NFKD", body or "")
    text = "".join(char for char in text if not unicodedata.combining(char)).casefold()
    text = re.sub(r"['’‘`´]", "", text)  # don't -> dont, before punctuation becomes a space
    words = re.sub(r"[^a-z0-9]+", " ", text).split()
    joined: list[str] = []
    for word in words:
        if joined and (joined[-1], word) in COMPOUNDS:
            joined[-1] = COMPOUNDS[(joined[-1], word)]
        else:
            joined.append(word)
    return joined


def keyword_match(body: str) -> KeywordMatch | None:
    """The keyword a text is (see the module's rule), with the word read; None for a sentence."""
    words = words_of(body)
    keywords = [(index, word) for index, word in enumerate(words) if word in KEYWORDS]
    if len(keywords) != 1:
        return None  # no keyword, or several ("stop start", "help cancel")
    index, word = keywords[0]
    before, after = words[:index], words[index + 1 :]
    if word in STOP_WITH_OBJECT:
        after = [rest for rest in after if rest not in ABOUT_OUR_TEXTS]
    courtesy = before + after
    if len(courtesy) > MAX_COURTESY_WORDS or any(rest not in COURTESY for rest in courtesy):
        return None
    return KeywordMatch(kind=KEYWORDS[word], word=word)


def keyword_of(body: str) -> Keyword | None:
    """What a client's text asks of us as a carrier keyword: "stop", "start", "help" or None."""
    match = keyword_match(body)
    return match.kind if match else None
