"""The @connections client over real sockets (no stack), against a stand-in endpoint that
records each request and answers from a script: delivered, gone, retried, refused; the
request boto3 sends; one kept-alive connection per thread; a connection the server closed
while idle; TLS with certificate verification."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import botocore.auth
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from parley.adapters.connections import ConnectionsApi, ConnectionsApiError
from tests.scripted_http import CLOSE, ScriptedServer

NOW = datetime.datetime(2026, 12, 3, 11, 39, 12, tzinfo=datetime.UTC)


class Endpoint(ScriptedServer):
    """The stand-in (tests/scripted_http.py) as API Gateway's @connections, stage `dev`."""

    def __init__(self, idle_timeout_s: float | None = None, tls: ssl.SSLContext | None = None):
        super().__init__(idle_timeout_s, tls)
        self.url = f"{self.origin}/dev"

    def answer(self, status: int, error_type: str | None = None, body: bytes = b"") -> None:
        headers = {"x-amzn-ErrorType": error_type} if error_type else {}
        self.script.append((status, headers, body))


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keys in the environment, where botocore's chain looks first."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEJr//////////wEaDH0+token==")


@pytest.fixture
def endpoint(credentials: None) -> Iterator[Endpoint]:
    with Endpoint().running() as running:
        yield running


def test_a_frame_is_delivered_and_a_gone_connection_is_false(endpoint: Endpoint) -> None:
    api = ConnectionsApi(endpoint.url, "us-east-1")
    endpoint.answer(410, "GoneException", b'{"message":"Connection abc= is gone"}')
    assert api.post("abc=", b'{"type":"message"}') is False
    assert api.post("abc=", b'{"type":"message"}') is True
    assert [(seen.path, seen.body) for seen in endpoint.seen] == [
        ("/dev/@connections/abc%3D", b'{"type":"message"}')
    ] * 2
    assert len({seen.client_port for seen in endpoint.seen}) == 1  # the 410's body was read


@pytest.mark.parametrize(
    "failures",
    [[(429, "LimitExceededException")], [(500, None)], [(502, None), (503, None)], [(CLOSE, None)]],
    ids=["throttled", "server-error", "two-errors", "closed-without-answer"],
)
def test_throttling_server_errors_and_lost_answers_are_tried_again(
    endpoint: Endpoint, failures: list[tuple[int, str | None]]
) -> None:
    for status, error_type in failures:
        endpoint.answer(status, error_type)
    assert ConnectionsApi(endpoint.url, "us-east-1").post("abc=", b"x") is True
    assert len(endpoint.seen) == len(failures) + 1


def test_three_failed_attempts_raise_the_last_answer(endpoint: Endpoint) -> None:
    for _ in range(3):
        endpoint.answer(503, "ServiceUnavailableException", b'{"message":"busy"}')
    with pytest.raises(ConnectionsApiError) as raised:
        ConnectionsApi(endpoint.url, "us-east-1").post("abc=", b"x")
    assert (raised.value.status, raised.value.error_type) == (503, "ServiceUnavailableException")
    assert len(endpoint.seen) == 3


def test_an_endpoint_that_never_answers_raises_after_three_attempts(credentials: None) -> None:
    with pytest.raises(ConnectionError):
        ConnectionsApi("http://127.0.0.1:9/dev", "us-east-1").post("abc=", b"x")


@pytest.mark.parametrize(
    ("status", "error_type", "body"),
    [
        (403, "AccessDeniedException", b'{"Message":"not authorized"}'),
        (413, "PayloadTooLargeException", b'{"message":"Message too long"}'),
        (400, None, b'{"__type":"BadRequestException","message":"invalid id"}'),
    ],
    ids=["forbidden", "too-large", "bad-request"],
)
def test_refusals_raise_at_once_with_their_type(
    endpoint: Endpoint, status: int, error_type: str | None, body: bytes
) -> None:
    endpoint.answer(status, error_type, body)
    with pytest.raises(ConnectionsApiError) as raised:
        ConnectionsApi(endpoint.url, "us-east-1").post("abc=", b"x")
    assert raised.value.status == status
    assert raised.value.error_type == (error_type or "BadRequestException")
    assert len(endpoint.seen) == 1


def test_the_request_is_the_one_boto3_sends(
    endpoint: Endpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Path, body and headers, signature included, at the same moment with the same keys;
    boto3's own bookkeeping (User-Agent, amz-sdk-*) is all it adds."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW)
    data = '{"type":"message","text":"h\u00e9"}'.encode()
    # A session of its own: boto3's default one keeps the credentials it found first, which
    # other tests in the same process may have set.
    boto3.session.Session().client(
        "apigatewaymanagementapi", endpoint_url=endpoint.url, region_name="eu-west-1"
    ).post_to_connection(ConnectionId="L0S+M9/cOFv=", Data=data)
    ConnectionsApi(endpoint.url, "eu-west-1", clock=NOW.timestamp).post("L0S+M9/cOFv=", data)
    theirs, ours = endpoint.seen
    bookkeeping = {"user-agent", "amz-sdk-invocation-id", "amz-sdk-request"}
    assert ours.path == theirs.path == "/dev/@connections/L0S%2BM9%2FcOFv%3D"
    assert ours.body == theirs.body == data
    assert ours.headers == {k: v for k, v in theirs.headers.items() if k not in bookkeeping}
    assert theirs.headers.keys() - ours.headers.keys() == bookkeeping


def test_each_thread_keeps_one_connection_alive(endpoint: Endpoint) -> None:
    api = ConnectionsApi(endpoint.url, "us-east-1")
    threads = [
        threading.Thread(target=lambda: [api.post(f"c{n}=", b"x") for n in range(25)])
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(endpoint.seen) == 100
    assert len({seen.client_port for seen in endpoint.seen}) == 4


def test_a_connection_the_server_closed_while_idle_is_reopened_at_once(
    credentials: None,
) -> None:
    """The request on the stale connection never reached the server: sent again on a new
    one, it is not one of the three attempts, which all remain for the answers."""
    with Endpoint(idle_timeout_s=0.2).running() as endpoint:
        api = ConnectionsApi(endpoint.url, "us-east-1")
        assert api.post("abc=", b"first") is True
        time.sleep(0.5)  # the server closes the idle connection
        endpoint.answer(500)
        endpoint.answer(500)
        assert api.post("abc=", b"second") is True
        assert [seen.body for seen in endpoint.seen] == [b"first"] + [b"second"] * 3
        assert len({seen.client_port for seen in endpoint.seen}) == 2


# ------------------------------------------------------------------------------------ TLS


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate, key) PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def tls_endpoint(certificate: tuple[Path, Path], credentials: None) -> Iterator[Endpoint]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    with Endpoint(tls=context).running() as running:
        yield running


def test_tls_refuses_a_certificate_nobody_trusts(tls_endpoint: Endpoint) -> None:
    with pytest.raises(ssl.SSLCertVerificationError):
        ConnectionsApi(tls_endpoint.url, "us-east-1").post("abc=", b"x")
    assert tls_endpoint.seen == []


def test_tls_posts_to_a_trusted_certificate(
    tls_endpoint: Endpoint, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))  # read by the default context
    api = ConnectionsApi(tls_endpoint.url, "us-east-1")
    assert [api.post("abc=", b"x") for _ in range(3)] == [True] * 3
    assert len({seen.client_port for seen in tls_endpoint.seen}) == 1
    assert tls_endpoint.seen[0].headers["host"] == tls_endpoint.url.split("/")[2]
