"""``/healthz`` says whether this process can serve."""

from __future__ import annotations

from bot import create_app
from tests.conftest import make_settings


def test_healthy_with_database_and_current_schema(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
    assert response.get_json()["schema"] == "current"


def test_unavailable_on_an_empty_database(tmp_path):
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'empty.db'}"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["schema"] == "outdated"


def test_unavailable_when_the_database_cannot_be_reached(tmp_path):
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_webhook_answers_503_not_500_when_the_database_is_down(tmp_path):
    from tests.conftest import simulator_for

    app = create_app(make_settings(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}"))
    answer = simulator_for(app).send_text("o_worker", "帮助")
    assert answer.status == 503
