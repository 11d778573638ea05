"""Registered domains and IP literals: table-driven, with look-alike decoys."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filterlog.enrich.domains import (
    _bare,
    _extractor,
    _resolved,
    _suffix_list,
    ip_literal,
    ip_literals,
    literal_values,
    registered_domain,
    registered_domains,
)


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


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.ip_addresses().map(str),
            st.ip_addresses(v=6).map(lambda a: f" [{a.exploded.upper()}]. "),
            st.text(alphabet="0123456789.:abcdefxKZ%[] \u0661\u212a\u0130\x85", max_size=24),
            st.from_regex(r"[0-9]{1,4}(\.[0-9]{1,4}){2,4}\.?", fullmatch=True),
            st.from_regex(r"[a-z0-9-]{1,12}(\.[a-z0-9-]{1,12}){0,3}", fullmatch=True),
        ),
        max_size=30,
    )
)
def test_a_column_of_names_is_judged_as_each_name_alone(hosts: list[str | None]) -> None:
    """The column's shortcut (a name with a letter and no colon is no address) never changes an answer."""
    assert literal_values(pa.array(hosts, pa.string())).to_pylist() == [
        None if h is None else ip_literal(h) for h in hosts
    ]
    assert ip_literals(pa.array(hosts, pa.string())).to_pylist() == [h is not None and ip_literal(h) for h in hosts]


def test_columns_are_resolved_on_distinct_hosts_and_mapped_back() -> None:
    hosts = pa.chunked_array([["www.bbc.co.uk", None, "1.2.3.4"], ["cdn.bbc.co.uk", "www.bbc.co.uk"]])
    assert registered_domains(hosts).to_pylist() == ["bbc.co.uk", None, "1.2.3.4", "bbc.co.uk", "bbc.co.uk"]
    assert ip_literals(hosts).to_pylist() == [False, False, True, False, False]
    assert registered_domains(pa.array([], pa.string())).to_pylist() == []


def _rules() -> list[str]:
    return sorted(_extractor().tlds)


def test_the_column_walk_reads_the_rules_tldextract_reads() -> None:
    assert _suffix_list()[0].to_pylist() == _rules()


def test_the_column_walk_finds_what_tldextract_finds_under_every_rule_of_the_list() -> None:
    """Each rule of the bundled list as a name, and under one and two more labels: wildcards
    (``*.sch.uk``: ``kent.sch.uk`` is a public suffix) and their exceptions (``!www.ck``) included."""
    names = [r.replace("*", "any").lstrip("!") for r in _rules()]
    hosts = [f"{pre}{name}" for name in names for pre in ("", "school.", "www.school.")]
    assert _resolved(hosts) == [registered_domain(h) for h in hosts]


_LABELS = st.one_of(
    st.sampled_from(sorted({label for rule in _rules() for label in rule.split(".")} - {"*"})).map(
        lambda label: label.lstrip("!")
    ),
    st.sampled_from(["www", "school", "city", "xn--bcher-kva", "1", "255", "-", "_", "", "a b", "b\u00fccher", "x:80"]),
    st.from_regex(r"[a-zA-Z0-9_-]{1,8}", fullmatch=True),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_LABELS, min_size=1, max_size=6), st.sampled_from(["", ".", ".."]))
def test_the_column_walk_agrees_with_tldextract_on_any_name(labels: list[str], end: str) -> None:
    """Names of the list's own labels, plain ones and odd ones (empty labels, spaces, ports, punycode,
    Unicode, addresses), in any case: those the walk does not take go to tldextract, so all agree."""
    hosts = [".".join(labels) + end, ".".join(labels).upper() + end]
    assert _resolved(hosts) == [registered_domain(h) for h in hosts]


def test_the_column_walk_agrees_with_tldextract_on_real_domains(shared_dir: Path) -> None:
    """The first thousand names of each UT1 category: real names, from a list maintained for filtering."""
    hosts = []
    for listed in sorted((shared_dir / "categories-ut1").glob("*/domains")):
        with listed.open(encoding="utf-8", errors="replace") as lines:
            hosts += [line.strip() for _, line in zip(range(1000), lines, strict=False) if line.strip()]
    assert len(hosts) > 10_000
    assert _resolved(hosts) == [registered_domain(h) for h in hosts]


def test_no_network_and_no_cache_directory(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("domain lookup tried the network")

    monkeypatch.setattr(socket, "create_connection", refuse)
    registered_domain.cache_clear()
    assert registered_domain("www.example.ac.uk") == "example.ac.uk"
