import unicodedata

from bot.qa.text import analyse, fold, is_syllable, telex_decode, tokens


def test_fold_strips_diacritics_and_d_bar() -> None:
    assert fold("Đăng ký Mã Vạch") == "dang ky ma vach"


def test_decomposed_input_folds_like_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Nhãn hiệu được bảo hộ")
    assert decomposed != "Nhãn hiệu được bảo hộ"
    assert (
        tokens(decomposed)
        == tokens("Nhãn hiệu được bảo hộ")
        == [
            "nhan",
            "hieu",
            "duoc",
            "bao",
            "ho",
        ]
    )


def test_tokens_drop_punctuation_emoji_and_markup() -> None:
    assert tokens("<b>EAN-13</b>?! 😀 'OR 1=1;--") == ["b", "ean", "13", "b", "or", "1", "1"]


def test_raw_telex_is_read_as_the_intended_syllable() -> None:
    assert telex_decode("ddawng") == "dang"
    assert telex_decode("kys") == "ky"
    assert telex_decode("vachj") == "vach"
    assert telex_decode("hieeuj") == "hieu"


def test_syllable_shape_tells_slips_from_real_words() -> None:
    assert is_syllable("nghieng")
    assert is_syllable("thue")
    assert is_syllable("quy")
    assert not is_syllable("vahc")  # "vạhc": letters swapped while typing
    assert not is_syllable("msmv")


def test_function_words_are_recognised_by_their_diacritics() -> None:
    levels = dict(analyse("chị ơi chứng chỉ"))
    assert levels["oi"] == 2
    marks = analyse("chị chỉ")
    assert marks == [("chi", 2), ("chi", 0)]  # "chị" (sister) vs "chỉ" (indication)
    assert analyse("chi dan") == [("chi", 1), ("dan", 0)]  # without diacritics: ambiguous
