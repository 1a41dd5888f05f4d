"""Issue 9, point 8: a Visma.net run shows what it sent (production) or would send (test): per document a
readable summary and its JSON, Visma.net's number and the outcome; all of them as one download."""
import json

from portal.extensions import db

from .conftest import WINDOW, companies, payments, run_now


def _client(app):
    from portal.demo.seed import seed_users
    seed_users()
    db.session.commit()
    from tests.factories import AuthActions
    client = app.test_client()
    AuthActions(client).login("manager")
    return client


def test_the_run_page_lists_the_documents_sent_and_downloads_them_as_one_file(sctx):
    zorg, _thuis, _test = companies()
    sctx.authorise()
    sctx.map(zorg)
    payments(zorg, 2)
    db.session.commit()
    profile = sctx.profile("payments")
    test_run = run_now(profile, mode="test", **WINDOW)
    production = run_now(profile, **WINDOW)
    client = _client(sctx.app)

    page = client.get(f"/runs/{test_run.id}").get_data(as_text=True)
    assert "Documents that would be sent to Visma.net" in page
    assert "Would be sent (test export)" in page and "Customer 10001, 12.50 by CASH" in page
    assert "No files yet" not in page

    page = client.get(f"/runs/{production.id}").get_data(as_text=True)
    assert "Documents sent to Visma.net" in page and "No files yet" not in page
    assert page.count("<td>Sent") == 2 and "000001" in page and "POST /v1/customerPayment" in page
    assert "&#34;paymentMethod&#34;" in page or "&quot;paymentMethod&quot;" in page or '"paymentMethod"' in page

    answer = client.get(f"/runs/{production.id}/documents.json")
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    data = json.loads(answer.get_data(as_text=True))
    assert [(d["state"], d["visma_number"]) for d in data["documents"]] == [("sent", "000001"), ("sent", "000002")]
    assert data["documents"][0]["body"]["customer"] == {"value": "10001"}
    assert client.get("/runs/999999/documents.json").status_code == 404


def test_a_refund_says_it_is_a_refund_in_every_language(sctx):
    """Visma.net's payment amount is always positive; its type says Refund. The summary must say so too,
    or a refund of 3.25 reads as a payment of 3.25."""
    from decimal import Decimal

    from flask_babel import force_locale

    from portal.exporting.providers.visma_net import document_summary
    from portal.models.visma_delivery import VismaDocument
    zorg, _thuis, _test = companies()
    sctx.authorise()
    sctx.map(zorg)
    made = payments(zorg, 2)
    made[1].amount = Decimal("-3.25")
    db.session.commit()
    run = run_now(sctx.profile("payments"), mode="test", **WINDOW)
    page = _client(sctx.app).get(f"/runs/{run.id}").get_data(as_text=True)
    assert "Customer 10001, 12.50 by CASH" in page and "Refund to customer 10002, 3.25 by CARD" in page
    documents = db.session.execute(db.select(VismaDocument).where(VismaDocument.run_id == run.id)
                                   .order_by(VismaDocument.id)).scalars().all()
    for locale, payment, refund in (
            ("nl", "Klant 10001, 12,50 via CASH", "Terugbetaling aan klant 10002, 3,25 via CARD"),
            ("sv", "Kund 10001, 12,50 med CASH", "Återbetalning till kund 10002, 3,25 med CARD"),
            ("da", "Kunde 10001, 12,50 med CASH", "Tilbagebetaling til kunde 10002, 3,25 med CARD")):
        with sctx.app.test_request_context("/"), force_locale(locale):
            assert [str(document_summary(d)) for d in documents] == [payment, refund]
