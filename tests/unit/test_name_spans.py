"""The runs of words of a text the child's file looks up in the school's name indexes (R6: a
name typed into a narrative of a child the record does not link). A run missing here is a
name left readable in another child's file."""

from __future__ import annotations

from portal.services.child_file import name_spans


def _reference(text: str) -> set[str]:
    """Every run of 1 to 4 words, joined one slice at a time (how the runs were first built),
    of the same words (`spaced_words`, and the plain words)."""
    from portal.crypto import normalise_for_index
    from portal.services.child_file import _WORD, spaced_words

    normalised = normalise_for_index(text)
    spans: set[str] = set()
    for words in (spaced_words(normalised), _WORD.findall(normalised)):
        for i in range(len(words)):
            for j in range(i + 1, min(len(words), i + 4) + 1):
                spans.add(" ".join(words[i:j]))
    return spans


def test_a_hyphenated_possessive_family_name_is_found_whole_and_in_parts() -> None:
    spans = name_spans("He said Amira Khan-Smith's coat was taken.")
    assert {"amira khan-smith", "khan-smith", "khan smith", "amira khan smith", "khan",
            "smith", "he said amira khan-smith"} <= spans
    assert "he said amira khan-smith coat" not in spans  # five words: longer than any name


def test_runs_are_every_run_of_one_to_four_words() -> None:
    spans = name_spans("one two three four five")
    assert spans == {"one", "two", "three", "four", "five",
                     "one two", "two three", "three four", "four five",
                     "one two three", "two three four", "three four five",
                     "one two three four", "two three four five"}


def test_runs_match_the_runs_built_one_slice_at_a_time() -> None:
    texts = [
        "", "   ", "Maisie", "A pupil came to me at break upset about what happened.",
        "Mary-Jane O'Neil's coat \u2014 \u2018quoted\u2019 (bracket) [x] at 10:30am, 5 July.",
        "王小明 pushed 李丽 on the stairs", "M a i s i e said \u201cno\u201d", "a.b c_d e-f's g",
        "'s \u2019s x's", "('s)",
    ]
    for text in texts:
        assert name_spans(text) == _reference(text), text
