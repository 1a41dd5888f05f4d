"""Markup every page shares: no attribute printed from Python's None, htmx without inline styles, a favicon."""
import re


def test_plain_fields_are_not_announced_as_invalid(client, auth, users):
    page = client.get("/auth/login").get_data(as_text=True)
    assert 'aria-invalid="None"' not in page and 'aria-describedby="None"' not in page
    assert not re.search(r'<input[^>]*name="email"[^>]*aria-invalid', page)
    auth.login("admin")
    page = client.get("/admin/users/new").get_data(as_text=True)
    assert '="None"' not in page
    # A field with a hint is described by its hint; with errors, by its errors (and its hint).
    page = client.post("/admin/users/new", data={"csrf_token": auth.csrf_token("/admin/users/new"),
                                                  "email": "not-an-address"}).get_data(as_text=True)
    email = re.search(r'<input[^>]*name="email"[^>]*>', page).group(0)
    assert 'aria-invalid="true"' in email and 'aria-describedby="email-errors"' in email


def test_htmx_takes_its_indicator_styles_from_our_stylesheet(client):
    page = client.get("/auth/login").get_data(as_text=True)
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false}'>""" in page
    assert ".htmx-request .htmx-indicator" in client.get("/static/css/portal.css").get_data(as_text=True)


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/vnd.microsoft.icon"
    assert 'rel="icon"' in client.get("/auth/login").get_data(as_text=True)
    assert client.get("/static/favicon.svg").status_code == 200
