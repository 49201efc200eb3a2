"""PROM scoring, table-tested against the published rules."""

import pytest

from bot.outcomes.proms import content, score_groc, score_psfs, score_startback

AGREE, DISAGREE = 1, 0
NOT_AT_ALL, SLIGHTLY, MODERATELY, VERY_MUCH, EXTREMELY = range(5)


@pytest.mark.parametrize(
    "items, bothersome, total, psychosocial, risk",
    [
        ([0, 0, 0, 0, 0, 0, 0, 0], NOT_AT_ALL, 0, 0, "low"),
        ([1, 1, 1, 0, 0, 0, 0, 0], MODERATELY, 3, 0, "low"),  # moderately scores 0
        ([1, 1, 1, 0, 0, 0, 0, 0], VERY_MUCH, 4, 1, "medium"),  # very much scores 1
        ([1, 1, 1, 1, 0, 0, 0, 0], SLIGHTLY, 4, 0, "medium"),
        ([0, 0, 0, 0, 1, 1, 1, 0], NOT_AT_ALL, 3, 3, "low"),  # total 3: low whatever the subscale
        ([1, 0, 0, 0, 1, 1, 1, 0], NOT_AT_ALL, 4, 3, "medium"),  # subscale 3: medium
        ([1, 0, 0, 0, 1, 1, 1, 1], NOT_AT_ALL, 5, 4, "high"),  # subscale 4: high
        ([0, 0, 0, 0, 1, 1, 1, 0], EXTREMELY, 4, 4, "high"),
        ([1, 1, 1, 1, 1, 1, 1, 1], EXTREMELY, 9, 5, "high"),
    ],
)
def test_startback_scores_and_risk_group(items, bothersome, total, psychosocial, risk):
    assert score_startback([*items, bothersome]) == {
        "total": total,
        "psychosocial": psychosocial,
        "risk": risk,
    }


@pytest.mark.parametrize("answers", [[1] * 8, [1] * 10, [2, *[0] * 7, 0], [*[0] * 8, 5]])
def test_startback_refuses_answers_it_does_not_have(answers):
    with pytest.raises(ValueError):
        score_startback(answers)


@pytest.mark.parametrize(
    "ratings, mean", [([3], 3.0), ([2, 5], 3.5), ([0, 4, 9], 4.3), ([10, 10, 10], 10.0)]
)
def test_psfs_is_the_mean_of_the_activities(ratings, mean):
    assert score_psfs(ratings) == {"mean": mean, "activities": len(ratings)}


@pytest.mark.parametrize("ratings", [[], [1, 2, 3, 4], [11], [-1]])
def test_psfs_refuses_what_it_is_not(ratings):
    with pytest.raises(ValueError):
        score_psfs(ratings)


def test_groc_runs_from_much_worse_to_much_better():
    assert [score_groc(v)["score"] for v in (-3, 0, 3)] == [-3, 0, 3]
    with pytest.raises(ValueError):
        score_groc(4)


def test_the_questionnaires_in_content_are_complete():
    c = content()
    assert len(c.startback.items) == 8 and len(c.startback.bothersome_answers) == 5
    assert "Keele University" in c.startback.copyright
    assert [score for _, score in c.groc.answers] == [3, 2, 1, 0, -1, -2, -3]
