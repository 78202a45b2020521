"""Did-you-mean: the known word closest to a mistyped one, case differences first."""

from __future__ import annotations

from collections.abc import Iterable


def closest(word: object, known: Iterable[object]) -> str | None:
    """The known word that `word` most likely meant: one that differs only in case, else the
    closest by spelling (compared in lower case, so that `Relu` means `relu`, not `elu`)."""
    import difflib

    text = str(word)
    choices = [str(k) for k in known]
    folded = text.casefold()
    same = [c for c in choices if c.casefold() == folded and c != text]
    if same:
        return same[0]
    by_fold: dict[str, str] = {}
    for choice in choices:
        by_fold.setdefault(choice.casefold(), choice)
    close = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=0.6)
    return by_fold[close[0]] if close and by_fold[close[0]] != text else None


def did_you_mean(word: object, known: Iterable[object]) -> str:
    """ "; did you mean 'x'?" for the closest known word, or "" when none is close."""
    close = closest(word, known)
    return f"; did you mean '{close}'?" if close is not None else ""
