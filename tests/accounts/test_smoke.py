from tests.personas import Cast, signed_in


def test_the_cast_assembles(cast: Cast) -> None:
    assert cast.survey.state == "active"


def test_health_answers(client, db) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200, response.content


def test_lead_sees_home(cast: Cast) -> None:
    assert signed_in(cast.lead).get("/").status_code == 200
