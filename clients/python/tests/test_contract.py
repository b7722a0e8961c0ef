"""api/openapi.yaml and the service agree: every path and method the document lists
is served (an unknown id is a 404 naming it, never "no route" or 405), and every
error answer is the document's Error object."""

from __future__ import annotations

import yaml

from conftest import REPO

METHODS = {"get", "put", "post", "delete", "patch"}


def test_every_documented_route_is_served(service):
    doc = yaml.safe_load((REPO / "api" / "openapi.yaml").read_text())
    codes = set(doc["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"])
    checked = 0
    with service.client() as c:
        for template, item in doc["paths"].items():
            path = template.replace("{id}", "sbx-none").replace("{cid}", "cmd-none").replace("{rid}", "egr-none")
            for method in METHODS & set(item):
                r = c.request(method.upper(), path, params={"path": "/x"} if "/files" in path else None,
                              json={} if method in ("post",) else None)
                checked += 1
                assert r.status_code != 405, (method, template)
                if r.status_code >= 400:
                    error = r.json()["error"]
                    assert error["code"] in codes, (method, template, error)
                    assert "no route" not in error["message"], (method, template, error)
                    if "{id}" in template:
                        assert (r.status_code, error["message"]) == (404, 'no sandbox "sbx-none"'), (method, template)
    assert checked >= 20
