"""The configuration table: precedence row by row, validation, and errors that name every place."""

from __future__ import annotations

import pytest

from ncr_provider.config import SETTINGS, resolve_settings
from ncr_provider.errors import ConfigurationError

# For each setting: (name, pulumi key, first env var, profile key or None, a valid value, another valid value, default)
ROWS = [
    ("access_key", "ncloud:accessKey", "NCLOUD_ACCESS_KEY", "ncloud_access_key_id", "AK_ONE", "AK_TWO", None),
    ("secret_key", "ncloud:secretKey", "NCLOUD_SECRET_KEY", "ncloud_secret_access_key", "SK_ONE", "SK_TWO", None),
    ("region", "ncloud:region", "NCLOUD_REGION", None, "SGN", "JPN", "KR"),
    ("site", "ncloud:site", "NCLOUD_SITE", None, "gov", "public", "public"),
    ("endpoint", "ncr:endpoint", "NCR_ENDPOINT", None, "https://a.example", "http://127.0.0.1:9", None),
    ("api_version", "ncr:apiVersion", "NCR_API_VERSION", None, "v3", "v2", "v2"),
]


def write_profile(tmp_path, text):
    path = tmp_path / "configure"
    path.write_text(text)
    return path


def test_table_covers_every_setting():
    assert {row[0] for row in ROWS} | {"profile"} == {s.name for s in SETTINGS}


@pytest.mark.parametrize("name,pulumi_key,env_var,profile_key,one,two,default", ROWS)
def test_precedence_argument_config_environment_file_default(tmp_path, name, pulumi_key, env_var, profile_key, one, two,
                                                             default):
    """Each source wins over every source below it, and only over those."""
    extra = {"region": "KR"} if name == "site" else {}  # KR exists on both sites
    profile = write_profile(tmp_path, f"[DEFAULT]\n{profile_key} = FILE_VALUE\n" if profile_key else "")

    def resolved(explicit=None, config=None, env=None):
        settings = resolve_settings({**extra, **(explicit or {})}, config, env or {}, profile)
        return getattr(settings, name)

    if profile_key:
        assert resolved() == "FILE_VALUE"
    else:
        assert resolved() == default
    assert resolved(env={env_var: two}).lower() == two.lower()
    assert resolved(config={pulumi_key: one}, env={env_var: two}).lower() == one.lower()
    assert resolved({name: two}, {pulumi_key: one}, {env_var: one}).lower() == two.lower()


@pytest.mark.parametrize("primary,fallback", [
    ("NCLOUD_ACCESS_KEY", "NCLOUD_ACCESS_KEY_ID"),
    ("NCLOUD_SECRET_KEY", "NCLOUD_SECRET_ACCESS_KEY"),
])
def test_second_environment_name_is_a_fallback(tmp_path, primary, fallback):
    attr = "access_key" if "ACCESS_KEY" in primary and "SECRET" not in primary else "secret_key"
    assert getattr(resolve_settings(None, None, {fallback: "FALLBACK"}, tmp_path / "none"), attr) == "FALLBACK"
    env = {primary: "PRIMARY", fallback: "FALLBACK"}
    assert getattr(resolve_settings(None, None, env, tmp_path / "none"), attr) == "PRIMARY"


def test_empty_environment_variable_counts_as_unset(tmp_path):
    settings = resolve_settings(None, None, {"NCLOUD_REGION": "", "NCLOUD_ACCESS_KEY": "  "}, tmp_path / "none")
    assert settings.region == "KR"
    assert settings.access_key is None


def test_profile_selects_a_named_section(tmp_path):
    profile = write_profile(tmp_path, "[DEFAULT]\nncloud_access_key_id = DEFAULT_AK\n"
                                      "[staging]\nncloud_access_key_id = STAGING_AK\nncloud_secret_access_key = STAGING_SK\n")
    assert resolve_settings(None, None, {}, profile).access_key == "DEFAULT_AK"
    staging = resolve_settings(None, None, {"NCLOUD_PROFILE": "staging"}, profile)
    assert (staging.access_key, staging.secret_key, staging.profile) == ("STAGING_AK", "STAGING_SK", "staging")
    from_config = resolve_settings(None, {"ncloud:profile": "staging"}, {}, profile)
    assert from_config.access_key == "STAGING_AK"


def test_missing_profile_file_is_not_an_error(tmp_path):
    assert resolve_settings(None, None, {}, tmp_path / "absent").access_key is None


def test_default_profile_file_is_in_home(clean_ncp_env):
    (clean_ncp_env / ".ncloud").mkdir()
    (clean_ncp_env / ".ncloud" / "configure").write_text("[DEFAULT]\nncloud_access_key_id = HOME_AK\n")
    assert resolve_settings().access_key == "HOME_AK"


def test_missing_credentials_name_every_place_looked(tmp_path):
    settings = resolve_settings(None, {}, {}, tmp_path / "configure")
    with pytest.raises(ConfigurationError) as caught:
        settings.credentials()
    assert str(caught.value) == (
        "No NCP access key and secret key found. Looked in: "
        f"Pulumi config ncloud:accessKey, environment NCLOUD_ACCESS_KEY or NCLOUD_ACCESS_KEY_ID, "
        f"profile file {tmp_path / 'configure'} [DEFAULT] ncloud_access_key_id; "
        f"Pulumi config ncloud:secretKey, environment NCLOUD_SECRET_KEY or NCLOUD_SECRET_ACCESS_KEY, "
        f"profile file {tmp_path / 'configure'} [DEFAULT] ncloud_secret_access_key."
    )


def test_outside_pulumi_missing_credentials_do_not_mention_pulumi_config(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(None, None, {}, tmp_path / "configure").credentials()
    assert "Pulumi" not in str(caught.value)
    assert "environment NCLOUD_ACCESS_KEY or NCLOUD_ACCESS_KEY_ID" in str(caught.value)


def test_missing_secret_only_never_prints_the_access_key_or_anything_secret(tmp_path):
    settings = resolve_settings({"access_key": "AK_VISIBLE_NOWHERE"}, {}, {}, tmp_path / "none")
    with pytest.raises(ConfigurationError) as caught:
        settings.credentials()
    assert str(caught.value).startswith("No NCP secret key found. Looked in: Pulumi config ncloud:secretKey")
    assert "AK_VISIBLE_NOWHERE" not in str(caught.value)


@pytest.mark.parametrize("site,region,host,prefix", [
    ("public", "KR", "https://ncr.apigw.ntruss.com", "/ncr/api/v2"),
    ("public", "sgn", "https://ncr.apigw.ntruss.com", "/ncr/sgn-api/v2"),
    ("PUBLIC", "JPN", "https://ncr.apigw.ntruss.com", "/ncr/jpn-api/v2"),
    ("gov", "KR", "https://gov-ncr.apigw.gov-ntruss.com", "/ncr/kr/v2"),
    ("Gov", "krs", "https://gov-ncr.apigw.gov-ntruss.com", "/ncr/krs/v2"),
])
def test_sites_and_regions_choose_host_and_prefix(tmp_path, site, region, host, prefix):
    settings = resolve_settings({"site": site, "region": region}, None, {}, tmp_path / "none")
    assert settings.base_url == host + prefix


def test_endpoint_replaces_only_the_host(tmp_path):
    settings = resolve_settings({"region": "SGN", "endpoint": "http://127.0.0.1:8080/"}, None, {}, tmp_path / "none")
    assert settings.base_url == "http://127.0.0.1:8080/ncr/sgn-api/v2"


@pytest.mark.parametrize("explicit,message", [
    ({"region": "US"}, "Unknown region 'US' for site public: valid regions are KR, SGN, JPN"),
    ({"site": "gov", "region": "SGN"}, "Unknown region 'SGN' for site gov: valid regions are KR, KRS"),
    ({"site": "moon"}, "Unknown site 'moon': valid sites are public, gov (fin with an explicit endpoint)"),
    ({"site": "fin"}, "Site 'fin' needs an endpoint: NCP documents no NCR API host for it. Set its API endpoint "
                      "(ncr:endpoint, NCR_ENDPOINT or --endpoint)"),
    ({"endpoint": "http://ncr.example.com"},
     "Invalid endpoint 'http://ncr.example.com': http:// is allowed only for loopback hosts (127.0.0.0/8, ::1, localhost); use https://"),
    ({"endpoint": "https://user:pw@ncr.example.com"},
     "Invalid endpoint: credentials (user:password@) do not belong in the endpoint; it is not shown here because it may hold a password"),
    ({"endpoint": "https://ncr.example.com/ncr/api/v2"},
     "Invalid endpoint 'https://ncr.example.com/ncr/api/v2': give only scheme, host and port; the region selects the path"),
    ({"endpoint": "ftp://127.0.0.1"}, "Invalid endpoint 'ftp://127.0.0.1': it must start with https:// (or http:// for a loopback host)"),
    ({"access_key": "AK\r\nX-Injected: 1", "secret_key": "SK"},
     "The access key from argument access_key contains a whitespace or control character (U+000D at position 3); "
     "NCP keys are printable ASCII: copy the key again without it"),
])
def test_invalid_settings_are_refused_clearly(tmp_path, explicit, message):
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(explicit, None, {}, tmp_path / "none")
    assert str(caught.value) == message


@pytest.mark.parametrize("endpoint,normal", [
    ("http://localhost:8080", "http://localhost:8080"),
    ("http://127.0.0.2", "http://127.0.0.2"),
    ("http://[::1]:9000/", "http://[::1]:9000"),
    ("https://ncr.example.com", "https://ncr.example.com"),
])
def test_loopback_http_and_any_https_endpoints_are_accepted(tmp_path, endpoint, normal):
    assert resolve_settings({"endpoint": endpoint}, None, {}, tmp_path / "none").endpoint == normal


def test_repr_masks_keys(tmp_path):
    settings = resolve_settings({"access_key": "AKIA12345678", "secret_key": "TOPSECRET"}, None, {}, tmp_path / "none")
    assert "TOPSECRET" not in repr(settings) and "AKIA12345678" not in repr(settings)
    assert "AKIA****" in repr(settings)


@pytest.mark.parametrize("value,position,code", [(" AK", 1, "0020"), ("AK ", 3, "0020"), ("\tAK", 1, "0009"),
                                                 ("AK\t\n", 3, "0009"), ("\nAK", 1, "000A")])
def test_a_key_with_whitespace_around_it_is_refused_from_every_place(tmp_path, value, position, code):
    # leading or trailing spaces and tabs are refused, as the README says, never silently dropped
    places = [({"access_key": value, "secret_key": "SK"}, None, {}, "argument access_key"),
              ({}, {"ncloud:accessKey": value, "ncloud:secretKey": "SK"}, {}, "Pulumi config ncloud:accessKey"),
              ({}, None, {"NCLOUD_ACCESS_KEY": value, "NCLOUD_SECRET_KEY": "SK"}, "environment NCLOUD_ACCESS_KEY")]
    for explicit, stack, environ, where in places:
        with pytest.raises(ConfigurationError) as caught:
            resolve_settings(explicit, stack, environ, tmp_path / "none")
        assert f"The access key from {where} contains a whitespace or control character (U+{code} at position " \
               f"{position})" in str(caught.value)
        assert value.strip() not in str(caught.value)


@pytest.mark.parametrize("end", ["\n", "\r\n"])
def test_a_trailing_line_end_on_a_key_is_dropped(tmp_path, end):
    # what `cat key.txt` or a secret store adds: the key is used without it (the README says so)
    settings = resolve_settings({}, None, {"NCLOUD_ACCESS_KEY": "AK" + end, "NCLOUD_SECRET_KEY": "SK" + end},
                                tmp_path / "none")
    assert settings.credentials() == ("AK", "SK")


@pytest.mark.parametrize("end,position", [("\n\n", 3), ("\r\n\r\n", 3), ("\n\r\n", 3)])
def test_only_one_line_end_is_dropped(tmp_path, end, position):
    # the README promises one line end dropped; a second is a blank line that did not come from NCP
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings({}, None, {"NCLOUD_ACCESS_KEY": "AK", "NCLOUD_SECRET_KEY": "SK" + end}, tmp_path / "none")
    assert f"The secret key from environment NCLOUD_SECRET_KEY contains a whitespace or control character " \
           f"(U+{ord(end[position - 3]):04X} at position {position})" in str(caught.value)


def test_site_fin_with_an_endpoint_is_spoken_to_with_the_public_sites_paths(tmp_path):
    # NCLOUD_SITE=fin is what NCP's own tools use for the financial cloud; its NCR API host is undocumented
    settings = resolve_settings(None, None, {"NCLOUD_SITE": "FIN", "NCR_ENDPOINT": "https://ncr.fin.example"},
                                tmp_path / "none")
    assert settings.base_url == "https://ncr.fin.example/ncr/api/v2"
    assert resolve_settings({"site": "fin", "endpoint": "https://ncr.fin.example", "region": "SGN"}, None, {},
                            tmp_path / "none").base_url == "https://ncr.fin.example/ncr/sgn-api/v2"
