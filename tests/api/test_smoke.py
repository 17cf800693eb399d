from tests.support.people import registration


def test_register_then_read_account(client, auth):
    created = client.post("/v1/registrations", json=registration(), headers=auth)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert created.headers["Location"] == f"/v1/accounts/{body['pseudonym']}"
    read = client.get(created.headers["Location"], headers=auth)
    assert read.status_code == 200
    assert read.get_json() == body
