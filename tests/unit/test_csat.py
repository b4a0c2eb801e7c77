"""Reading the 1-5 satisfaction survey answer from a customer message (lib/csat.py)."""

import pytest

from lib import csat, interactive


@pytest.mark.parametrize(("message_type", "reply_id", "text", "score"), [
    ("interactive", "0_1", None, 1),
    ("interactive", "4_5", "5 stars", 5),
    ("interactive", "12_3", None, 3),
    ("interactive", "0_6", None, 0),
    ("interactive", "0_0", None, 0),
    ("interactive", "1_yes", None, 0),
    ("interactive", "a_1", None, 0),
    ("interactive", "3", None, 0),
    ("interactive", "0_1x", None, 0),
    ("interactive", None, "4", 0),  # a tap is read from its id, never from the text
    ("text", None, "5", 5),
    ("text", None, "  3 \n", 3),
    ("text", None, "4.", 4),
    ("text", None, "2!", 2),
    ("text", "0_5", "hello", 0),  # a text is read from its body, never from an id
    ("text", None, "10", 0),
    ("text", None, "0", 0),
    ("text", None, "6", 0),
    ("text", None, "5 stars", 0),
    ("text", None, "I give it a 5", 0),
    ("text", None, "", 0),
    ("text", None, None, 0),
    ("image", "0_5", "5", 0),
    ("button", "4_5", "5", 0),
])
def test_score_of(message_type, reply_id, text, score):
    assert csat.score_of(message_type, reply_id, text) == score


def test_rows_of_the_survey_list_read_back_as_their_score():
    built = interactive.list_message(
        "How did we do?", "Rate us", [(str(score), "label") for score in csat.SCORES])
    row_ids = [row["id"] for row in built["action"]["sections"][0]["rows"]]
    assert [csat.score_of("interactive", row_id, None) for row_id in row_ids] == [1, 2, 3, 4, 5]
