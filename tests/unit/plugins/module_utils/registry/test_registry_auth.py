# -*- coding: utf-8 -*-
# Copyright: (c) 2026, gpufleet maintainers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Challenges as real registries send them; each header's source is named next to it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.gpufleet.containers.plugins.module_utils.registry.auth import (
    AuthError,
    basic_authorization,
    credential_refusal,
    parse_challenges,
    pick_challenge,
    token_from_answer,
    token_request_url,
)

# Docker Hub, quoted in Azure/acr#651
DOCKER_HUB = (
    'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/golang:pull"'
)
# nvcr.io without `service`, quoted in sapcc/keppel#731
NVCR = 'Bearer realm="https://nvcr.io/proxy_auth",scope="repository:nvidia/k8s-device-plugin:pull"'
# nvcr.io on /v2/ with an empty scope, quoted in renovatebot/renovate#17294
NVCR_EMPTY_SCOPE = 'Bearer realm="https://nvcr.io/proxy_auth",scope=""'
# nvcr.io with the realm alone, quoted in google/go-containerregistry#728
NVCR_REALM_ONLY = 'Bearer realm="https://nvcr.io/proxy_auth"'
# Azure Container Registry, quoted in Azure/acr#651
ACR_BASIC = 'Basic realm="Azure Container Registry"'
# Debian's docker-registry 2.8.2 with htpasswd auth, captured from tests/testbed/registry
DISTRIBUTION_BASIC = 'Basic realm="gpufleet-test"'


def query(url):
    return {key: values[0] for key, values in parse_qs(urlsplit(url).query, keep_blank_values=True).items()}


def test_docker_hub_challenge_parses_into_realm_service_and_scope():
    (challenge,) = parse_challenges(DOCKER_HUB)
    assert challenge.scheme == "bearer"
    assert challenge.params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:library/golang:pull",
    }


def test_token_url_keeps_the_challenges_service_and_scope():
    url = token_request_url(pick_challenge(parse_challenges(DOCKER_HUB)), "library/golang")
    assert url.startswith("https://auth.docker.io/token?")
    assert query(url) == {"service": "registry.docker.io", "scope": "repository:library/golang:pull"}


def test_nvcr_challenge_without_service_sends_no_service():
    url = token_request_url(pick_challenge(parse_challenges(NVCR)), "nvidia/k8s-device-plugin")
    assert query(url) == {"scope": "repository:nvidia/k8s-device-plugin:pull"}


@pytest.mark.parametrize("header", [NVCR_EMPTY_SCOPE, NVCR_REALM_ONLY])
def test_missing_or_empty_scope_is_filled_with_the_repositorys_pull_scope(header):
    url = token_request_url(pick_challenge(parse_challenges(header)), "nvidia/cuda")
    assert url.startswith("https://nvcr.io/proxy_auth?")
    assert query(url)["scope"] == "repository:nvidia/cuda:pull"


@pytest.mark.parametrize(
    "header, realm", [(ACR_BASIC, "Azure Container Registry"), (DISTRIBUTION_BASIC, "gpufleet-test")]
)
def test_basic_challenges(header, realm):
    challenge = pick_challenge(parse_challenges(header))
    assert (challenge.scheme, challenge.params["realm"]) == ("basic", realm)


def test_bearer_is_preferred_when_a_header_offers_both():
    challenge = pick_challenge(parse_challenges(DISTRIBUTION_BASIC + ", " + NVCR))
    assert challenge.scheme == "bearer"
    assert challenge.params["realm"] == "https://nvcr.io/proxy_auth"


def test_unquoted_values_and_escapes_and_case():
    (challenge,) = parse_challenges(r'BEARER Realm=https://r.example/t, Scope="repository:a\"b:pull"')
    assert challenge.scheme == "bearer"
    assert challenge.params == {"realm": "https://r.example/t", "scope": 'repository:a"b:pull'}


@pytest.mark.parametrize("header", ["", None])
def test_no_header_no_challenge(header):
    assert parse_challenges(header) == []
    assert pick_challenge(parse_challenges(header)) is None


def test_unknown_schemes_are_not_picked():
    assert pick_challenge(parse_challenges('Negotiate, NTLM realm="x"')) is None


def test_unterminated_quote_is_an_auth_error():
    with pytest.raises(AuthError, match="unterminated"):
        parse_challenges('Bearer realm="https://auth.example/token')


def test_realm_that_is_not_a_url_is_refused():
    with pytest.raises(AuthError, match="no usable realm"):
        token_request_url(pick_challenge(parse_challenges('Bearer realm="token"')), "a/b")


def test_realm_with_its_own_query_gets_parameters_appended():
    url = token_request_url(pick_challenge(parse_challenges('Bearer realm="https://a.example/t?x=1"')), "a/b")
    assert url.startswith("https://a.example/t?x=1&")
    assert query(url) == {"x": "1", "scope": "repository:a/b:pull"}


@pytest.mark.parametrize(
    "body, token",
    [
        (b'{"token": "abc", "access_token": "abc", "expires_in": 300}', "abc"),
        (b'{"access_token": "oauth-style"}', "oauth-style"),
        ('{"token": "text"}', "text"),
    ],
)
def test_token_answers(body, token):
    assert token_from_answer(body) == token


@pytest.mark.parametrize(
    "body, complaint", [(b"<html>login</html>", "not JSON"), (b'{"expires_in": 1}', "no token"), (b"[]", "no token")]
)
def test_token_answers_without_a_token_are_errors(body, complaint):
    with pytest.raises(AuthError, match=complaint):
        token_from_answer(body)


def test_basic_authorization_header():
    header = basic_authorization("$oauthtoken", "p:w")
    assert header.startswith("Basic ")
    assert base64.b64decode(header[6:]).decode() == "$oauthtoken:p:w"


# (realm URL, the registry's names, trusted_realm_hosts, insecure_registries) of token services that get the
# credentials: the registry's own host, Docker Hub's token service, a host the user trusts, plain HTTP allowed.
@pytest.mark.parametrize(
    "realm, registry_hosts, trusted, plain_http",
    [
        ("https://nvcr.io/proxy_auth", ["nvcr.io"], [], []),
        ("https://ghcr.io/token", ["ghcr.io"], [], []),
        ("https://NVCR.io:443/proxy_auth", ["nvcr.io"], [], []),
        ("https://auth.docker.io/token", ["docker.io", "registry-1.docker.io"], [], []),
        ("https://gitlab.com/jwt/auth", ["registry.gitlab.com"], ["gitlab.com"], []),
        ("https://auth.example.com:8443/token", ["registry.example.com"], ["auth.example.com:8443"], []),
        ("http://127.0.0.1:5000/token", ["127.0.0.1:5000"], [], ["127.0.0.1:5000"]),
        ("http://127.0.0.1:5001/token", ["127.0.0.1:5000"], ["127.0.0.1:5001"], ["127.0.0.1:5001"]),
        ("https://[::1]:5000/token", ["[::1]:5000"], [], []),
    ],
)
def test_credentials_go_to_the_registrys_own_or_trusted_token_service(realm, registry_hosts, trusted, plain_http):
    assert credential_refusal(realm, registry_hosts, trusted, plain_http) is None


@pytest.mark.parametrize(
    "realm, registry_hosts, trusted, plain_http, words",
    [
        # A registry that names an attacker's token service must not get the credentials sent there.
        ("https://collector.example/token", ["registry.example.com"], [], [], "not on the registry's host"),
        ("https://auth.docker.io/token", ["registry.example.com"], [], [], "trusted_realm_hosts"),
        # Another port on the same machine can be another user's service.
        ("http://127.0.0.1:5001/token", ["127.0.0.1:5000"], [], ["127.0.0.1:5000"], "127.0.0.1:5001"),
        ("https://auth.example.com:8443/token", ["registry.example.com"], ["auth.example.com"], [], "trusted"),
        ("http://nvcr.io/proxy_auth", ["nvcr.io"], [], [], "plain HTTP"),
        ("http://127.0.0.1:5001/token", ["127.0.0.1:5000"], ["127.0.0.1:5001"], ["127.0.0.1:5000"], "plain HTTP"),
        ("https://registry.example.com.collector.example/t", ["registry.example.com"], [], [], "not on the"),
    ],
)
def test_credentials_are_withheld_from_other_hosts_and_plain_http(realm, registry_hosts, trusted, plain_http, words):
    reason = credential_refusal(realm, registry_hosts, trusted, plain_http)
    assert reason is not None and words in reason
