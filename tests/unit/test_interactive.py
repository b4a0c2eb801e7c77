import pytest

from lib import interactive


def test_reply_buttons_follow_metas_shape():
    built = interactive.reply_buttons("Confirm the visit?", ["Yes", "No", "Another day"])
    assert built["type"] == "button"
    assert built["body"] == {"text": "Confirm the visit?"}
    buttons = built["action"]["buttons"]
    assert [b["reply"]["title"] for b in buttons] == ["Yes", "No", "Another day"]
    assert [b["reply"]["id"] for b in buttons] == ["0_yes", "1_no", "2_another_day"]
    assert all(b["type"] == "reply" for b in buttons)


@pytest.mark.parametrize(("titles", "message"), [
    (["a", "b", "c", "d"], "3 reply buttons"),
    (["This title is far too long"], "longer than 20"),
    (["Sí", "sí"], "same title"),
    ([], "at least one button"),
])
def test_reply_buttons_refuse_what_meta_refuses(titles, message):
    with pytest.raises(ValueError, match=message):
        interactive.reply_buttons("text", titles)


def test_list_rows_with_descriptions():
    rows = interactive.parse_rows("Plan básico | 10 usuarios\nPlan pro\n\n  ")
    built = interactive.list_message("Elige un plan", "Ver planes", rows)
    section = built["action"]["sections"][0]
    assert built["action"]["button"] == "Ver planes"
    assert section["rows"][0] == {"id": "0_plan_básico", "title": "Plan básico",
                                  "description": "10 usuarios"}
    assert section["rows"][1] == {"id": "1_plan_pro", "title": "Plan pro"}


def test_list_limits():
    with pytest.raises(ValueError, match="10 rows"):
        interactive.list_message("x", "menu", [(f"row {i}", "") for i in range(11)])
    with pytest.raises(ValueError, match="longer than 24"):
        interactive.list_message("x", "menu", [("a row title that is much too long", "")])
    with pytest.raises(ValueError, match="1024"):
        interactive.list_message("x" * 1025, "menu", [("row", "")])
    with pytest.raises(ValueError, match="label"):
        interactive.list_message("x", "", [("row", "")])
