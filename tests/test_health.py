def test_health_reports_database_redis_and_workers_without_a_session(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["database"] == "ok"
    assert body["redis"] == "ok"
    assert body["status"] == "ok"
    assert isinstance(body["workers"], int)


def test_health_says_so_when_redis_is_down(app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    body = app.test_client().get("/health")
    assert body.status_code == 503
    assert body.get_json()["redis"].startswith("error")
