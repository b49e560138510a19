def test_health_and_login(client, auth):
    r = client.get("/api/health")
    assert r.status_code == 200 and r.json()["database"] == "ok"
    assert r.json()["sites"] >= 65
    r = client.get("/api/sites", headers=auth("lurah"))
    assert [s["kelurahan_code"] for s in r.json()] == ["74.71.01.1006"]
