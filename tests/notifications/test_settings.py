"""The notifications page: one form and one Save for every profile, so that ticks under one profile are
not lost when another's were saved (each profile had its own form and Save)."""
from portal.extensions import db
from portal.models import User
from portal.notifications import services

from tests import factories


def test_one_save_keeps_the_ticks_of_every_profile(app, client, auth, users):
    with app.app_context():
        first = factories.profile("Profiel 1").id
        factories.profile("Profiel 2")
        third = factories.profile("Profiel 3").id
    auth.login("consultant")
    page = client.get("/notifications").get_data(as_text=True)
    assert page.count('<form method="post" class="subscriptions">') == 1
    token = auth.csrf_token("/notifications")
    response = client.post("/notifications", data={
        "csrf_token": token, "profile": ["all", str(first), str(third)],
        f"events-{third}": ["production_finished"], f"events-{first}": ["run_failed", "production_finished"]})
    assert response.status_code == 302
    with app.app_context():
        user = db.session.execute(db.select(User).filter_by(email="consultant@example.com")).scalar_one()
        assert services.subscribed_events(user.id, first) == {"run_failed", "production_finished"}
        assert services.subscribed_events(user.id, third) == {"production_finished"}
        assert services.subscribed_events(user.id, None) == set()
    # Unticking under one profile keeps the others.
    client.post("/notifications", data={"csrf_token": token, "profile": [str(first), str(third)],
                                        f"events-{third}": ["production_finished"]})
    with app.app_context():
        assert services.subscribed_events(user.id, first) == set()
        assert services.subscribed_events(user.id, third) == {"production_finished"}


def test_a_stopped_sync_is_offered_only_where_a_sync_can_stop(app, client, auth, users):
    """A file profile cannot stop a sync (only Visma.net refuses a record): its row does not offer "A sync
    stopped"; a Visma.net profile's does, and "All export profiles" says it is about Visma.net profiles."""
    with app.app_context():
        files = factories.profile("Bestanden").id
        visma = factories.profile("Naar Visma")
        visma.provider = "visma_net"          # the page reads the provider only
        db.session.commit()
        visma = visma.id
    auth.login("consultant")
    page = client.get("/notifications").get_data(as_text=True)
    assert f'name="events-{files}" value="sync_stopped"' not in page
    assert f'name="events-{files}" value="run_failed"' in page
    assert f'name="events-{visma}" value="sync_stopped"' in page
    assert 'name="events-all" value="sync_stopped"' in page
    assert "A sync stopped (Visma.net profiles only: Visma.net refused a record)" in page
    assert page.count("A sync stopped (the provider refused a record)") == 1          # the Visma.net profile's
    client.post("/language", data={"locale": "sv", "csrf_token": auth.csrf_token("/")})
    page = client.get("/notifications").get_data(as_text=True)
    assert "En synkronisering har stoppats (endast Visma.net-profiler: Visma.net avvisade en post)" in page
