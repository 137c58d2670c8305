"""handlers/text.py: one folding of what workers type, for keeping and for comparing."""

from __future__ import annotations

import pytest

from handlers.text import fold, keyword, trimmed


class TestTrimmed:
    def test_spaces_are_trimmed_and_collapsed(self):
        assert trimmed("  孩子上学  \n 老人住院 ") == "孩子上学 老人住院"

    def test_chinese_punctuation_and_full_width_forms_are_kept(self):
        assert trimmed("孩子上学，老人住院。") == "孩子上学，老人住院。"
        assert trimmed("１２３") == "１２３"

    def test_nothing(self):
        assert trimmed(None) == ""
        assert trimmed("   ") == ""


class TestFold:
    @pytest.mark.parametrize(
        ("typed", "folded"),
        [
            ("１３８１２３４５６７８", "13812345678"),
            ("同意。", "同意"),
            ("好的！", "好的"),
            ("好的!!", "好的"),
            ("4?", "4"),
            ("帮扶？", "帮扶"),
            ("确认～", "确认"),
            ("  是  ", "是"),
            ("修改　２", "修改 2"),  # the ideographic space too
            ("…是", "是"),
        ],
    )
    def test_full_width_forms_and_closing_punctuation(self, typed, folded):
        assert fold(typed) == folded

    def test_case_is_kept(self):
        assert fold("11010519491231002X") == "11010519491231002X"
        assert fold("Yes") == "Yes"

    def test_punctuation_inside_is_kept(self):
        assert fold("老人住院。孩子上学。") == "老人住院。孩子上学"
        assert fold("焊工、电工") == "焊工、电工"

    def test_nothing(self):
        assert fold(None) == ""
        assert fold("。") == ""


class TestKeyword:
    @pytest.mark.parametrize(
        ("typed", "word"),
        [
            ("HELP", "help"),
            ("ｈｅｌｐ。", "help"),
            ("帮助！", "帮助"),
            ("OK", "ok"),
            ("３", "3"),
        ],
    )
    def test_folded_and_lower_case(self, typed, word):
        assert keyword(typed) == word

    @pytest.mark.parametrize("typed", ["?", "？", " ? "])
    def test_a_lone_question_mark_stays(self, typed):
        assert keyword(typed) == "?"

    def test_nothing(self):
        assert keyword(None) == ""
        assert keyword("") == ""
