import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from motcua_kit.auth import InvalidToken, Role, TokenVerifier, create_dev_keys, mint_token
from motcua_kit.logs import configure_logging, mask_text, mask_value
from motcua_kit.settings import AuthSettings


def test_personal_data_is_masked_in_free_text() -> None:
    text = (
        "gọi 0905123456 hoặc +84905123456, mail hoa.nguyen@example.vn, CCCD 056190001234, "
        "hồ sơ 000.00.06.H56-231027-0361"
    )
    masked = mask_text(text)
    for secret in ("0905123456", "84905123456", "hoa.nguyen", "056190001234"):
        assert secret not in masked
    assert "000.00.06.H56-231027-0361" in masked  # dossier codes are not personal data


def test_personal_keys_are_masked_in_nested_values() -> None:
    masked = mask_value({"applicant": {"full_name": "Nguyễn Thị Hoa"}, "meta": {"phone": "0905123456", "n": 3}})
    assert masked == {"applicant": "***", "meta": {"phone": "***", "n": 3}}


def test_log_lines_are_json_without_personal_data(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("test", "INFO")
    structlog.get_logger().info("sent", phone="0905123456", note="to hoa@example.vn", dossier_code="X-1")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "sent" and line["service"] == "test" and line["dossier_code"] == "X-1"
    assert line["phone"] == "***" and "hoa@example.vn" not in line["note"]


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    create_dev_keys(tmp_path)
    return tmp_path


async def test_a_local_token_verifies_with_role_and_scope(keys: Path) -> None:
    verifier = TokenVerifier(AuthSettings(jwks_file=keys / "jwks.json", issuer="motcua-local"))
    token = mint_token(keys, role=Role.COUNTER_OFFICER, scope="000.00.06.H56", subject="u1")
    principal = await verifier.verify(token)
    assert (principal.subject, principal.role, principal.scope) == ("u1", Role.COUNTER_OFFICER, "000.00.06.H56")


async def test_expired_foreign_or_wrong_audience_tokens_are_refused(
    keys: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    verifier = TokenVerifier(AuthSettings(jwks_file=keys / "jwks.json", issuer="motcua-local"))
    with pytest.raises(InvalidToken, match="expired"):
        await verifier.verify(mint_token(keys, role=Role.AUDITOR, scope="H56", ttl_seconds=-10))
    other = tmp_path_factory.mktemp("other")
    create_dev_keys(other)
    with pytest.raises(InvalidToken, match="unknown key"):
        await verifier.verify(mint_token(other, role=Role.AUDITOR, scope="H56"))
    with pytest.raises(InvalidToken, match=r"(?i)audience"):
        await verifier.verify(mint_token(keys, role=Role.AUDITOR, scope="H56", audience="elsewhere"))
    with pytest.raises(InvalidToken):
        await verifier.verify("garbage")


def test_auth_settings_need_a_key_source() -> None:
    with pytest.raises(ValueError, match="JWKS"):
        AuthSettings()


@pytest.fixture
def jwks_server(keys: Path) -> Iterator[tuple[str, Path]]:
    """A real local HTTP server publishing the JWKS, as an OIDC provider does."""
    import http.server
    import threading

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = (keys / "jwks.json").read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/realms/motcua/protocol/openid-connect/certs", keys
    finally:
        server.shutdown()


async def test_tokens_verify_against_a_jwks_url_and_a_rotated_key_is_fetched(
    jwks_server: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import motcua_kit.auth as auth

    url, keys = jwks_server
    verifier = TokenVerifier(AuthSettings(jwks_url=url, issuer="motcua-local"))
    token = mint_token(keys, role=Role.AGENCY_LEADER, scope="000.00.13.H56")
    assert (await verifier.verify(token)).role is Role.AGENCY_LEADER
    # The provider rotates its key: the new key id is fetched once the refresh interval allows.
    rotated = tmp_path_factory.mktemp("rotated")
    create_dev_keys(rotated)
    (keys / "jwks.json").write_text((rotated / "jwks.json").read_text())
    new_token = mint_token(rotated, role=Role.AUDITOR, scope="H56")
    monkeypatch.setattr(auth, "JWKS_REFRESH_MIN_SECONDS", 0.0)
    assert (await verifier.verify(new_token)).role is Role.AUDITOR


async def test_an_unreachable_jwks_url_refuses_tokens_instead_of_failing(keys: Path) -> None:
    from motcua_devstack.servers import free_port

    verifier = TokenVerifier(AuthSettings(jwks_url=f"http://127.0.0.1:{free_port()}/certs", jwks_timeout_seconds=1))
    with pytest.raises(InvalidToken, match="keys unavailable"):
        await verifier.verify(mint_token(keys, role=Role.AUDITOR, scope="H56"))
