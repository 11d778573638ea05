"""Registered domains and IP literals: table-driven, with look-alike decoys."""

from __future__ import annotations

import ipaddress

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filterlog.enrich.domains import _bare, ip_literal, ip_literals, registered_domain, registered_domains


@pytest.mark.parametrize(
    ("host", "domain"),
    [
        ("www.bbc.co.uk", "bbc.co.uk"),
        ("bbc.co.uk", "bbc.co.uk"),
        ("co.uk", "co.uk"),  # a bare public suffix is not somebody's domain, but it is what was asked for
        ("news.bbc.co.uk.", "bbc.co.uk"),  # trailing dot of a fully qualified name
        ("WWW.Google.COM", "google.com"),
        ("a.x.blogspot.com", "blogspot.com"),  # private suffixes are not used: lists match whole suffixes
        ("r3---sn-aigl6n7s.googlevideo.com", "googlevideo.com"),
        ("bücher.de", "bücher.de"),
        ("www.xn--bcher-kva.de", "xn--bcher-kva.de"),
        ("sub.example.gov.uk", "example.gov.uk"),
        ("localhost", "localhost"),
        ("intranet", "intranet"),
        ("10.20.1.15", "10.20.1.15"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("", None),
    ],
)
def test_registered_domain(host: str, domain: str | None) -> None:
    assert registered_domain(host) == domain


@pytest.mark.parametrize(
    ("host", "is_ip"),
    [
        ("1.2.3.4", True),
        ("[::1]", True),
        ("fe80::1%eth0", True),
        ("1.2.3.4.example.com", False),
        ("999.1.1.1", False),
        ("example.com", False),
    ],
)
def test_ip_literal(host: str, is_ip: bool) -> None:
    assert ip_literal(host) is is_ip


def _by_ipaddress(host: str) -> bool:
    """The plain reference: ask ``ipaddress`` about every host."""
    try:
        ipaddress.ip_address(_bare(host).split("%", 1)[0])
    except ValueError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.ip_addresses().map(str),
        st.ip_addresses(v=6).map(lambda a: f"[{a}]"),
        st.text(alphabet="0123456789.:abcdefx%[] \u0661", max_size=24),
        st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,4}){2,4}\.?", fullmatch=True),
    )
)
def test_ip_literal_agrees_with_ipaddress_on_any_host(host: str) -> None:
    """Names are told apart before ``ipaddress`` is asked: never an address lost or a name taken for one."""
    assert ip_literal(host) is _by_ipaddress(host)


def test_columns_are_resolved_on_distinct_hosts_and_mapped_back() -> None:
    hosts = pa.chunked_array([["www.bbc.co.uk", None, "1.2.3.4"], ["cdn.bbc.co.uk", "www.bbc.co.uk"]])
    assert registered_domains(hosts).to_pylist() == ["bbc.co.uk", None, "1.2.3.4", "bbc.co.uk", "bbc.co.uk"]
    assert ip_literals(hosts).to_pylist() == [False, False, True, False, False]
    assert registered_domains(pa.array([], pa.string())).to_pylist() == []


def test_no_network_and_no_cache_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("domain lookup tried the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    registered_domain.cache_clear()
    assert registered_domain("www.example.ac.uk") == "example.ac.uk"
