def test_htmx_request_from_logged_out_session_redirects_whole_page(client, project):
    response = client.get(f"/projects/{project.slug}/activity/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")


def test_plain_request_gets_normal_redirect(client, project):
    response = client.get(f"/projects/{project.slug}/activity/")
    assert response.status_code == 302 and "HX-Redirect" not in response


def test_pages_carry_strict_csp_and_csrf_header(admin_user, client, project):
    client.force_login(admin_user)
    response = client.get("/projects/")
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    body = response.content.decode()
    assert 'hx-headers=\'{"x-csrftoken"' in body
    assert "django_htmx/htmx" in body  # the vendored copy, no CDN
    assert "<script>" not in body and "style=" not in body
