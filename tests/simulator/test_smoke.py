from tests.conftest import DEMO_ACCOUNT, DEMO_KEY, SimServer


def test_account_is_served_over_a_real_socket(demo_sim: SimServer) -> None:
    with demo_sim.client(auth=(DEMO_KEY, "")) as client:
        response = client.get(f"/v1/accounts/{DEMO_ACCOUNT}/")
    assert response.status_code == 200
    assert response.json()["number"] == DEMO_ACCOUNT
