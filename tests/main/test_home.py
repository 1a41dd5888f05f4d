"""The home page and the layout: tiles and navigation only for what the user may use."""
from portal import navigation


def _nav_links(page):
    start = page.index('<nav class="mainnav"')
    return page[start:page.index("</nav>", start)]


def test_admin_gets_a_tile_and_a_navigation_entry_for_users(client, auth):
    auth.login("admin")
    page = client.get("/").get_data(as_text=True)
    assert 'href="/admin/users"' in _nav_links(page)
    assert '<li class="tile"><a href="/admin/users"><strong>Users</strong>' in page
    assert "Manage users" in page  # the account card names the permissions


def test_staff_sees_no_admin_entry_and_their_own_tiles(client, auth):
    auth.login("staff")
    page = client.get("/").get_data(as_text=True)
    assert "/admin/users" not in page
    # With the export pages registered, staff have tiles (the empty home is for accounts without any).
    assert 'href="/profiles/"' in page and 'href="/scenarios"' in page and 'href="/overview/"' not in page
    assert "Import and export" in page


def test_navigation_follows_registered_permissions(app, client, auth):
    from portal.models import Permission
    navigation.register(app, "main.health", "Health (test)", [Permission.VIEW_EXPORTS], "Test tile", order=1)
    auth.login("manager")
    page = client.get("/").get_data(as_text=True)
    assert "Health (test)" in _nav_links(page) and "Test tile" in page
    auth.logout()
    auth.login("staff")
    assert "Health (test)" not in client.get("/").get_data(as_text=True)


def test_layout_has_skip_link_landmarks_and_flash_messages(client, auth):
    auth.login("staff")
    auth.logout()
    page = client.get("/auth/login").get_data(as_text=True)
    assert '<a class="skip-link" href="#main">' in page and '<main id="main"' in page
    assert 'class="flash flash-info" role="status">You have been signed out.' in page
    assert '<label for="locale-select"' in page  # the switcher has a label


def test_demo_sign_ins_are_shown_on_the_demo_sign_in_page_only(app, client):
    assert "Demo sign-ins" not in client.get("/auth/login").get_data(as_text=True)
    app.config["ENV_NAME"] = "demo"
    page = client.get("/auth/login").get_data(as_text=True)
    assert "Demo sign-ins" in page and "staff@example.com" in page


def test_each_role_s_tile_promises_only_what_that_role_can_do(client, auth):
    auth.login("manager")  # managers read exports; they cannot start one
    page = client.get("/").get_data(as_text=True)
    tile = page[page.index('<li class="tile"><a href="/profiles/">'):]
    tile = tile[:tile.index("</li>")]
    assert "start an export" not in tile and "files, reports" in tile
    auth.logout()
    auth.login("staff")
    assert "start an export" in client.get("/").get_data(as_text=True)
    auth.logout()
    auth.login("consultant")
    assert "Create and change export profiles" in client.get("/").get_data(as_text=True)
