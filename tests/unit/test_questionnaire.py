from bot.domain.questionnaire import STEPS, Step, clean_name, next_step, previous_step, progress


def test_six_steps_in_order_with_progress() -> None:
    assert [progress(step) for step in STEPS] == [(n, 6) for n in range(1, 7)]
    assert next_step(Step.NAME) is Step.PHONE and next_step(Step.INTERESTS) is None
    assert previous_step(Step.NAME) is None and previous_step(Step.PHONE) is Step.NAME


def test_names_are_tidied_and_nonsense_refused() -> None:
    assert clean_name("  Анна   Мария ") == "Анна Мария"
    assert clean_name("") is None
    assert clean_name("12345") is None
    assert clean_name("/start") is None
    assert clean_name("Я" * 61) is None


def test_points_agree_with_the_number() -> None:
    from bot.texts import texts_for

    ru, en = texts_for("ru"), texts_for("en")
    assert [ru.points(n) for n in (1, 2, 5, 11, 21, 22, 112, 100)] == [
        "1 балл",
        "2 балла",
        "5 баллов",
        "11 баллов",
        "21 балл",
        "22 балла",
        "112 баллов",
        "100 баллов",
    ]
    assert (en.points(1), en.points(100)) == ("1 point", "100 points")
