"""Names in Vietnamese alphabetical order (the printed schedule)."""

from portguard.collation import vietnamese_key


def test_letters_with_their_own_marks_follow_their_base_letter():
    names = ["Đỗ Văn Bình", "Vũ Thị Lan", "Dương Văn An", "Âu Minh Tú", "Ăn Thị Hà", "An Văn Nam", "Bùi Văn Ơn"]
    assert sorted(names, key=vietnamese_key) == [
        "An Văn Nam",
        "Ăn Thị Hà",
        "Âu Minh Tú",
        "Bùi Văn Ơn",
        "Dương Văn An",
        "Đỗ Văn Bình",
        "Vũ Thị Lan",
    ]


def test_tones_decide_only_between_otherwise_equal_words():
    words = ["má", "mạ", "mà", "ma", "mã", "mả", "mac"]
    assert sorted(words, key=vietnamese_key) == ["ma", "mà", "mả", "mã", "má", "mạ", "mac"]


def test_o_horn_and_u_horn_follow_o_circumflex_and_u():
    words = ["ơn", "ôn", "on", "ưng", "ung", "vang"]
    assert sorted(words, key=vietnamese_key) == ["on", "ôn", "ơn", "ung", "ưng", "vang"]


def test_case_does_not_change_the_order_and_equal_keys_are_never_confused():
    assert sorted(["lê", "Lê", "Lan"], key=vietnamese_key) == ["Lan", "Lê", "lê"]
    assert vietnamese_key("Lê") != vietnamese_key("lê")
