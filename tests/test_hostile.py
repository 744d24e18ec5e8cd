"""Hostile names and configuration: refused everywhere with an error naming the field, nothing sent."""

from __future__ import annotations

import pytest

from ncr_provider.cli import main as ncr_image
from ncr_provider.client import NcrClient
from ncr_provider.config import resolve_settings
from ncr_provider.errors import ConfigurationError, InvalidNameError
from ncr_provider.names import find_references, parse_reference
from ncr_provider.provider import NcrImageProvider

# Names that must never reach a request path. None contains ':' (a tag separator in a reference).
HOSTILE_IMAGES = [
    "", " ", ".", "..", "../etc/passwd", "a/../../b", "a/./b", "team/..", "%2e%2e", "%2e%2e%2fetc", "a%2Fb",
    "a%00b", "a\x00b", "a\r\nb", "a\nX-Injected: 1", "a?b", "a?page=2", "a#frag", "a b", " a", "a\t", "a//b",
    "/a", "a/", "a\\b", "\\..\\b", "ａ", "tеam", "a\u200bb", "a\u202eb", "Team", "a" * 10_000, "a;b", "a@b", "~root",
    "a%", "a|b", "a*", "-a", "a-", "a..b", "a\x7fb",
]
# The same, plus names that are fine images but not single-segment registries.
HOSTILE_REGISTRIES = [name for name in HOSTILE_IMAGES if "/" not in name] + ["a/b", "a" * 64, "a_b", "a.b"]

assert len(HOSTILE_IMAGES) >= 30 and len(HOSTILE_REGISTRIES) >= 30


def ids(names):
    return [repr(n)[:24] for n in names]


@pytest.mark.parametrize("image", HOSTILE_IMAGES, ids=ids(HOSTILE_IMAGES))
def test_client_refuses_hostile_image_names(client, emulator, image):
    with pytest.raises(InvalidNameError) as caught:
        client.get_image("prod", image)
    assert caught.value.field == "image_name"
    assert emulator.requests == []


@pytest.mark.parametrize("registry", HOSTILE_REGISTRIES, ids=ids(HOSTILE_REGISTRIES))
def test_client_refuses_hostile_registry_names(client, emulator, registry):
    with pytest.raises(InvalidNameError) as caught:
        client.get_image(registry, "team/web")
    assert caught.value.field == "registry"
    assert emulator.requests == []


@pytest.mark.parametrize("image", HOSTILE_IMAGES, ids=ids(HOSTILE_IMAGES))
def test_provider_check_names_the_property(image):
    failures = NcrImageProvider().check({}, {"registry": "prod", "image_name": image}).failures
    assert [f.property for f in failures] == ["image_name"]


@pytest.mark.parametrize("registry", HOSTILE_REGISTRIES, ids=ids(HOSTILE_REGISTRIES))
def test_provider_check_names_the_registry_property(registry):
    failures = NcrImageProvider().check({}, {"registry": registry, "image_name": "team/web"}).failures
    assert [f.property for f in failures] == ["registry"]


@pytest.mark.parametrize("image", HOSTILE_IMAGES, ids=ids(HOSTILE_IMAGES))
def test_cli_get_refuses_with_exit_2_and_sends_nothing(ncp_env, capsys, image):
    code = ncr_image(["get", f"prod/{image}"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("ncr-image: error: Invalid ")
    assert len(err.strip().splitlines()) == 1
    assert ncp_env.requests == []


def test_cli_check_refuses_all_hostile_references_at_once(ncp_env, capsys):
    refs = [f"prod/{image}" for image in HOSTILE_IMAGES if image.strip() and "\n" not in image and "\r" not in image]
    assert ncr_image(["check", "prod/team/web", *refs]) == 2
    assert ncp_env.requests == []
    assert "Invalid" in capsys.readouterr().err


@pytest.mark.parametrize("image", HOSTILE_IMAGES, ids=ids(HOSTILE_IMAGES))
def test_reference_parser_refuses_hostile_docker_references(image):
    with pytest.raises(InvalidNameError):
        parse_reference(f"prod.kr.ncr.ntruss.com/{image}")


@pytest.mark.parametrize("image", [i for i in HOSTILE_IMAGES if not any(c.isspace() for c in i)],
                         ids=ids([i for i in HOSTILE_IMAGES if not any(c.isspace() for c in i)]))
def test_policy_scanner_reports_hostile_references_as_malformed(image):
    (found,) = find_references({"spec": {"image": f"prod.kr.ncr.ntruss.com/{image}"}})
    assert found.ref is None and found.path == "spec.image"
    assert found.error.field in ("spec.image", "spec.image digest", "spec.image tag", "registry", "image_name")


def test_policy_never_looks_up_a_hostile_reference(emulator, monkeypatch):
    from policy_helpers import resource_args  # the policy's own test helpers: args as pulumi_policy builds them

    from ncr_provider.policy import LookupCache, mutable_image_tags_policies

    monkeypatch.setenv("NCLOUD_ACCESS_KEY", emulator.access_key)
    monkeypatch.setenv("NCLOUD_SECRET_KEY", emulator.secret_key)
    hostile = [i for i in HOSTILE_IMAGES if not any(c.isspace() for c in i)]
    props = {"containers": [{"image": f"prod.kr.ncr.ntruss.com/{image}"} for image in hostile]}
    cache = LookupCache()
    try:
        main, _ = mutable_image_tags_policies(lookups=cache)
        violations = []
        main.validate(resource_args(props, {"endpoint": emulator.url}), lambda message, urn=None: violations.append(message))
    finally:
        cache.close()
    assert len(violations) == len(hostile)
    assert emulator.requests == []


# -- hostile configuration --------------------------------------------------------------------

@pytest.mark.parametrize("explicit,fragment", [
    ({"endpoint": "http://ncr.example.com"}, "http:// is allowed only for loopback hosts"),
    ({"endpoint": "http://10.0.0.1:8080"}, "http:// is allowed only for loopback hosts"),
    ({"endpoint": "https://ncr.example.com/evil/path"}, "give only scheme, host and port"),
    ({"endpoint": "https://ncr.example.com?x=1"}, "give only scheme, host and port"),
    ({"endpoint": "https://user:secret@ncr.example.com"}, "credentials (user:password@) do not belong in the endpoint"),
    ({"endpoint": "https://@ncr.example.com"}, "credentials (user:password@) do not belong in the endpoint"),
    ({"endpoint": "http://user:secret@evil.example"}, "credentials (user:password@) do not belong in the endpoint"),
    ({"endpoint": "https://user:secret\r\n@ncr.example.com"}, "credentials (user:password@) do not belong in the endpoint"),
    ({"endpoint": "file:///etc/passwd"}, "it must start with https://"),
    ({"endpoint": "https://ncr.example.com\r\nX: 1"}, "whitespace or control characters"),
    ({"region": "MARS"}, "valid regions are KR, SGN, JPN"),
    ({"site": "fin"}, "Site 'fin' needs an endpoint: NCP documents no NCR API host for it."),
    ({"site": "moon"}, "valid sites are public, gov (fin with an explicit endpoint)"),
    ({"access_key": "AK\rX"}, "The access key from argument access_key contains a whitespace or control character (U+000D at position 3)"),
    ({"access_key": "AK\nX"}, "The access key from argument access_key contains a whitespace or control character"),
    ({"secret_key": "SK\nX"}, "The secret key from argument secret_key contains a whitespace or control character"),
    ({"access_key": "AKIDEXAMPLE\u200b", "secret_key": "SK"},
     "The access key from argument access_key contains a non-ASCII character (U+200B at position 12)"),
    ({"access_key": "AK", "secret_key": "S\u00e9CRET"}, "The secret key from argument secret_key contains a non-ASCII character (U+00E9 at position 2)"),
    ({"access_key": "AK", "secret_key": "S\u00a0K"}, "The secret key from argument secret_key contains a whitespace or control character (U+00A0 at position 2)"),
])
def test_hostile_configuration_is_refused_naming_the_problem_never_the_secret(explicit, fragment):
    # Settings are resolved before any client exists: there is nothing that could send yet.
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(explicit, None, {})
    assert fragment in str(caught.value)
    for secret in ("SK\nX", "S\u00e9CRET", "user:secret"):
        assert secret not in str(caught.value)


def test_hostile_endpoint_reaches_neither_client_nor_provider_check(emulator):
    with pytest.raises(ConfigurationError):
        NcrClient(resolve_settings({"access_key": emulator.access_key, "secret_key": emulator.secret_key, "site": "moon"}))
    failures = NcrImageProvider().check({}, {"registry": "prod", "image_name": "web", "endpoint": "http://evil.example"}).failures
    assert [f.property for f in failures] == ["endpoint"]


# -- the profile file, as NCP's tools and careless editors write it ---------------------------------

PAIR = "ncloud_access_key_id = {ak}\nncloud_secret_access_key = {sk}\n"


@pytest.mark.parametrize("text", [
    PAIR,                                                         # NCP's Python SDK: flat, no section header
    "[DEFAULT]\n" + PAIR,                                         # the ncloud CLI
    "[default]\n" + PAIR,                                         # section names are case-insensitive
    "\ufeff" + PAIR,                                              # a UTF-8 BOM (Windows Notepad)
    ("[DEFAULT]\n" + PAIR).replace("\n", "\r\n"),                 # CRLF
    'ncloud_access_key_id = "{ak}"\nncloud_secret_access_key: \'{sk}\'\n',  # quoted, ':' separator
    "# written by hand\n\n  ncloud_access_key_id={ak}\nNCLOUD_SECRET_ACCESS_KEY =   {sk}  \n; done\n",
], ids=["flat", "ini", "lowercase-section", "bom", "crlf", "quoted", "comments-and-spacing"])
def test_profile_file_in_every_form_ncp_tools_write_signs_real_requests(emulator, clean_ncp_env, text):
    # given ~/.ncloud/configure in this form, and nothing in the environment
    (clean_ncp_env / ".ncloud").mkdir()
    (clean_ncp_env / ".ncloud" / "configure").write_bytes(
        text.format(ak=emulator.access_key, sk=emulator.secret_key).encode())
    # when the client resolves its keys from it alone, then the emulator accepts the signature
    with NcrClient(resolve_settings({"endpoint": emulator.url})) as client:
        assert client.get_image("prod", "team/web").name == "team/web"
    assert [r.status for r in emulator.requests] == [200]


def test_a_named_profile_is_found_whatever_the_case_of_its_header(tmp_path):
    profile = tmp_path / "configure"
    profile.write_text("ncloud_access_key_id = FLAT_AK\nncloud_secret_access_key = FLAT_SK\n"
                       "[Staging]\nncloud_access_key_id = ST_AK\nncloud_secret_access_key = ST_SK\n")
    staging = resolve_settings(None, None, {"NCLOUD_PROFILE": "staging"}, profile)
    assert (staging.access_key, staging.secret_key) == ("ST_AK", "ST_SK")
    assert resolve_settings(None, None, {}, profile).credentials() == ("FLAT_AK", "FLAT_SK")


BROKEN_PROFILES = [
    ("[DEFAULT\nncloud_access_key_id = AK\n", "line 1: a section header must look like [name]"),
    ("[DEFAULT]\nncloud_access_key_id = AK\nthis line is SECRETLOOKING garbage\n",
     "line 3: expected `key = value`, a [section] header or a # comment"),
    ("ncloud_access_key_id = AK\nncloud_access_key_id = SECRETLOOKING\n", "line 2: ncloud_access_key_id is set twice in the same section"),
    (b"ncloud_access_key_id = AK\nncloud_secret_access_key = \xffSECRETLOOKING\n", "line 2: it is not UTF-8 text"),
]


@pytest.mark.parametrize("content,problem", BROKEN_PROFILES, ids=["header", "garbage", "duplicate", "not-utf8"])
def test_a_broken_profile_file_is_no_error_while_the_keys_come_from_elsewhere(tmp_path, content, problem):
    path = tmp_path / "configure"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    env = {"NCLOUD_ACCESS_KEY": "ENV_AK", "NCLOUD_SECRET_KEY": "ENV_SK"}
    assert resolve_settings(None, None, env, path).credentials() == ("ENV_AK", "ENV_SK")
    assert resolve_settings({"access_key": "A", "secret_key": "S"}, None, {}, path).credentials() == ("A", "S")
    assert resolve_settings(None, {"ncloud:accessKey": "P", "ncloud:secretKey": "Q"}, {}, path).credentials() == ("P", "Q")


@pytest.mark.parametrize("content,problem", BROKEN_PROFILES, ids=["header", "garbage", "duplicate", "not-utf8"])
def test_a_broken_profile_file_needed_for_the_keys_names_file_and_line_and_never_its_content(tmp_path, content, problem):
    path = tmp_path / "configure"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    settings = resolve_settings(None, None, {}, path)  # resolving alone is fine: nothing needed a key yet
    with pytest.raises(ConfigurationError) as caught:
        settings.credentials()
    assert str(caught.value) == f"Profile file {path} {problem}"
    assert "SECRETLOOKING" not in str(caught.value)


@pytest.mark.parametrize("kind", ["directory", "unreadable"])
def test_a_profile_path_that_cannot_be_read_is_an_error_only_when_needed(tmp_path, kind):
    import os
    path = tmp_path / "configure"
    if kind == "directory":
        path.mkdir()
        expected = f"Cannot read profile file {path}: it is a directory"
    else:
        path.write_text(PAIR.format(ak="AK", sk="SK"))
        path.chmod(0)
        if os.access(path, os.R_OK):
            pytest.skip("running as a user who can read any file")
        expected = f"Cannot read profile file {path}: permission denied"
    assert resolve_settings(None, None, {"NCLOUD_ACCESS_KEY": "A", "NCLOUD_SECRET_KEY": "S"}, path).credentials() == ("A", "S")
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(None, None, {}, path).credentials()
    assert str(caught.value) == expected


def test_cli_with_a_flat_profile_file_and_environment_keys_works(ncp_env, clean_ncp_env, capsys):
    # the reported failure: a flat ~/.ncloud/configure broke every command, even with keys in the environment
    (clean_ncp_env / ".ncloud").mkdir()
    (clean_ncp_env / ".ncloud" / "configure").write_text("ncloud_access_key_id = OTHER\nncloud_secret_access_key = OTHER\n")
    assert ncr_image(["get", "prod/team/web"]) == 0
    assert "team/web" in capsys.readouterr().out


# -- the key pair comes from one place ---------------------------------------------------------------

def test_an_environment_access_key_never_pairs_with_the_profile_files_secret(tmp_path):
    path = tmp_path / "configure"
    path.write_text("[DEFAULT]\nncloud_access_key_id = FILE_AK\nncloud_secret_access_key = FILE_SK\n")
    settings = resolve_settings(None, None, {"NCLOUD_ACCESS_KEY": "ENV_AK"}, path)
    with pytest.raises(ConfigurationError) as caught:
        settings.credentials()
    assert str(caught.value) == (
        f"The NCP access key is set in environment NCLOUD_ACCESS_KEY but the secret key in profile file {path} [DEFAULT] "
        "ncloud_secret_access_key: a key pair must come from one place. Set both in the environment, or neither.")
    assert "FILE_SK" not in str(caught.value) and "ENV_AK" not in str(caught.value)


@pytest.mark.parametrize("config,env,file_text,expected", [
    ({"ncloud:accessKey": "CFG_AK"}, {"NCLOUD_SECRET_KEY": "ENV_SK"}, "",
     "The NCP access key is set in Pulumi config ncloud:accessKey but the secret key in environment NCLOUD_SECRET_KEY"),
    ({}, {"NCLOUD_SECRET_ACCESS_KEY": "ENV_SK"}, "ncloud_access_key_id = FILE_AK\n",
     "The NCP secret key is set in environment NCLOUD_SECRET_ACCESS_KEY but the access key in profile file"),
    ({"ncloud:secretKey": "CFG_SK"}, {}, "ncloud_access_key_id = FILE_AK\n",
     "The NCP secret key is set in Pulumi config ncloud:secretKey but the access key in profile file"),
])
def test_every_half_pair_names_both_places(tmp_path, config, env, file_text, expected):
    path = tmp_path / "configure"
    path.write_text(file_text)
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(None, config, env, path).credentials()
    assert str(caught.value).startswith(expected)


def test_a_pair_split_across_the_two_environment_names_is_one_place(tmp_path):
    env = {"NCLOUD_ACCESS_KEY_ID": "AK", "NCLOUD_SECRET_KEY": "SK"}
    settings = resolve_settings(None, None, env, tmp_path / "none")
    assert settings.credentials() == ("AK", "SK") and settings.credentials_source == "the environment"


def test_a_half_pair_with_the_other_half_nowhere_is_reported_missing(tmp_path):
    with pytest.raises(ConfigurationError) as caught:
        resolve_settings(None, None, {"NCLOUD_ACCESS_KEY": "AK"}, tmp_path / "none").credentials()
    assert str(caught.value).startswith("No NCP secret key found. Looked in: environment NCLOUD_SECRET_KEY")


@pytest.mark.parametrize("output", ["table", "json"])
def test_cli_key_with_a_zero_width_space_is_exit_2_one_sentence_and_json_still_a_document(ncp_env, output):
    import json

    from cli_runner import run_cli
    env = {**__import__("os").environ, "NCLOUD_ACCESS_KEY": ncp_env.access_key + "\u200b"}
    result = run_cli("check", "prod/team/web", "-o", output, env=env)
    assert result.returncode == 2
    sentence = ("ncr-image: error: The access key from environment NCLOUD_ACCESS_KEY contains a non-ASCII character "
                f"(U+200B at position {len(ncp_env.access_key) + 1}); NCP keys are printable ASCII: copy the key again without it")
    assert result.stderr.splitlines() == [sentence]
    if output == "json":
        doc = json.loads(result.stdout)
        assert doc["summary"]["exit_code"] == 2 and doc["images"] == []
        assert doc["error"] == {"type": "ConfigurationError", "message": sentence.removeprefix("ncr-image: error: ")}
    else:
        assert result.stdout == ""
    assert ncp_env.requests == []


def test_cli_half_pair_is_exit_2_naming_both_places(ncp_env, clean_ncp_env, monkeypatch):
    from cli_runner import run_cli
    monkeypatch.delenv("NCLOUD_SECRET_KEY")
    (clean_ncp_env / ".ncloud").mkdir()
    (clean_ncp_env / ".ncloud" / "configure").write_text(f"ncloud_secret_access_key = {ncp_env.secret_key}\n")
    result = run_cli("get", "prod/team/web")
    assert result.returncode == 2
    assert result.stderr.startswith("ncr-image: error: The NCP access key is set in environment NCLOUD_ACCESS_KEY but "
                                    "the secret key in profile file ")
    assert ncp_env.requests == []


def test_cli_endpoint_with_userinfo_is_refused_and_never_echoed(ncp_env):
    from cli_runner import run_cli
    for where in ("option", "environment"):
        args = ["get", "prod/team/web"]
        env = dict(__import__("os").environ)
        if where == "option":
            args += ["--endpoint", "https://admin:hunter2@ncr.example.com"]
        else:
            env["NCR_ENDPOINT"] = "https://admin:hunter2@ncr.example.com"
        result = run_cli(*args, env=env)
        assert result.returncode == 2, where
        assert "hunter2" not in result.stdout + result.stderr and "admin" not in result.stderr
        assert "credentials (user:password@) do not belong in the endpoint" in result.stderr
    assert ncp_env.requests == []


# -- input size: --from-file and --from-stack ---------------------------------------------------------

def read_traced(path):
    """`--from-file`'s reader over `path`: its targets, its problems, and the peak memory it allocated."""
    import tracemalloc

    from ncr_provider.cli.targets import from_file
    tracemalloc.start()
    try:
        targets, problems = from_file(str(path), None)
        return targets, problems, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_from_file_streams_and_deduplicates_in_bounded_memory(tmp_path):
    """180 000 lines (about 3 MB) naming three images: memory follows the three, not the lines."""

    path = tmp_path / "images.txt"
    with open(path, "w") as fh:
        for _ in range(60_000):
            fh.write("prod/team/web\nprod/team/api # twice\nprod.kr.ncr.ntruss.com/hello/world:1.1\n")
    targets, problems, peak = read_traced(path)
    assert [(t.text, t.line) for t in targets] == [
        ("prod/team/web", 1), ("prod/team/api", 2), ("prod.kr.ncr.ntruss.com/hello/world:1.1", 3)]
    assert problems == []
    assert peak < 1_000_000, f"peak {peak} bytes while reading {path.stat().st_size} bytes"


def test_a_line_of_megabytes_is_reported_without_being_held(tmp_path):

    path = tmp_path / "images.txt"
    path.write_text("prod/team/web\n" + "a" * 5_000_000 + "\nprod/team/api\n")
    targets, problems, peak = read_traced(path)
    assert [t.text for t in targets] == ["prod/team/web", "prod/team/api"]
    assert problems == [f"{path}:2: the line is over 4096 characters long; no reference is"]
    assert peak < 1_000_000


def test_error_output_is_capped_at_twenty_problems_and_a_count(ncp_env, tmp_path):
    from cli_runner import run_cli
    (tmp_path / "images.txt").write_text("".join(f"prod/Team{i}/web\n" for i in range(5000)))
    result = run_cli("check", "--from-file", "images.txt", cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 21
    assert lines[0].startswith("ncr-image: error: images.txt:1: Invalid image_name 'Team0/web'")
    assert lines[19].startswith("ncr-image: error: images.txt:20: ")
    assert lines[20] == "ncr-image: error: ... and 4980 more problems not shown"
    assert ncp_env.requests == []


@pytest.mark.parametrize("via", ["file", "stdin"])
def test_a_utf8_bom_before_the_first_reference_is_accepted(ncp_env, tmp_path, via):
    from cli_runner import run_cli
    text = "\ufeffprod/team/web\nprod/hello/world\n"
    if via == "file":
        (tmp_path / "images.txt").write_bytes(text.encode("utf-8"))
        result = run_cli("check", "--from-file", "images.txt", cwd=tmp_path)
    else:
        result = run_cli("check", "--from-file", "-", stdin=text)
    assert result.returncode == 0, result.stderr
    assert "2 images checked: 2 passed" in result.stdout


@pytest.mark.parametrize("content", ["", "\n\n", "# nothing here yet\n   # still nothing\n", "\ufeff"])
def test_an_empty_from_file_is_a_usage_error_not_a_pass(ncp_env, tmp_path, content):
    from cli_runner import run_cli
    (tmp_path / "images.txt").write_text(content)
    for args, stdin in ((["--from-file", "images.txt"], None), (["--from-file", "-"], content)):
        result = run_cli("check", *args, cwd=tmp_path, stdin=stdin)
        assert result.returncode == 2, args
        name = "stdin" if args[1] == "-" else "images.txt"
        assert result.stderr == (f"ncr-image: error: --from-file {name} names no image: it is empty or only blank lines "
                                 "and comments\n")
    assert ncp_env.requests == []


@pytest.mark.parametrize("depth", [100_000, 5_000])
def test_deeply_nested_from_stack_json_is_one_sentence_exit_2(ncp_env, tmp_path, depth):
    from cli_runner import run_cli
    inner = "[" * depth + "]" * depth
    (tmp_path / "stack.json").write_text('{"deployment": {"resources": [{"type": "x", "inputs": {"a": ' + inner + "}}]}}")
    result = run_cli("check", "--from-stack", "stack.json", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == ("ncr-image: error: --from-stack stack.json is nested too deeply to be a stack export "
                             "(JSON deeper than Python's recursion limit); give the output of `pulumi stack export`\n")
    assert ncp_env.requests == []


@pytest.mark.parametrize("output", ["table", "json", "github"])
def test_a_full_disk_is_exit_3_and_one_sentence(ncp_env, output):
    import os
    import subprocess
    import sys
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "ncr_provider.cli", "check", "prod/team/web", "-o", output],
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert result.returncode == 3
    assert result.stderr == "ncr-image: error: cannot write the output: no space left on device\n"


def test_a_full_disk_under_an_error_document_still_leaves_one_sentence(ncp_env):
    import os
    import subprocess
    import sys
    if not os.path.exists("/dev/full"):
        pytest.skip("needs /dev/full")
    env = {**os.environ, "NCLOUD_ACCESS_KEY": "AK\u200b"}
    with open("/dev/full", "w") as full:
        result = subprocess.run([sys.executable, "-m", "ncr_provider.cli", "check", "prod/team/web", "-o", "json"],
                                stdout=full, stderr=subprocess.PIPE, text=True, timeout=60, env=env)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and "U+200B" in result.stderr


# -- hostile text from the API -----------------------------------------------------------------------

HOSTILE_TEXT = ("ok\x1b[2J\x1b[31mRED\x1b]0;pwned title\x07\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
                "\x9b1;1H\u202eLIVE\r\n::error ::forged\x1b")


def assert_terminal_safe(text):
    for bad in ("\x1b", "\x9b", "\x07", "\u202e", "pwned title", "evil.example", "\r"):
        assert bad not in text, (bad, text)
    assert "\n::error ::forged" not in text  # a newline would start a forged GitHub workflow command


def test_terminal_control_sequences_in_api_text_never_reach_table_get_or_github(ncp_env):
    from cli_runner import run_cli
    ncp_env.add_image("prod", "team/evil", description=HOSTILE_TEXT, tag_mutability_enabled=True)
    for args in (["get", "prod/team/evil"], ["check", "prod/team/evil", "--require-immutable"],
                 ["check", "prod/team/evil", "--require-immutable", "-o", "github"]):
        result = run_cli(*args)
        assert result.returncode in (0, 1), result.stderr
        assert_terminal_safe(result.stdout + result.stderr)
    assert "okREDclick" in run_cli("get", "prod/team/evil").stdout


@pytest.mark.parametrize("output", ["table", "github"])
def test_terminal_control_sequences_in_api_error_messages_are_stripped(ncp_env, output):
    from cli_runner import run_cli
    ncp_env.enqueue(status=404, body={"error": {"errorCode": "300\x1b[8m", "message": HOSTILE_TEXT, "requestId": "r\x1b]0;x\x07"}})
    result = run_cli("check", "prod/team/web", "-o", output)
    assert result.returncode == 1
    assert_terminal_safe(result.stdout + result.stderr)
    ncp_env.enqueue(status=403, body={"error": {"errorCode": "230", "message": HOSTILE_TEXT}})
    result = run_cli("get", "prod/team/web")
    assert result.returncode == 3
    assert_terminal_safe(result.stderr)
    assert len(result.stderr.splitlines()) == 1


# -- a tag that resolves to nothing ------------------------------------------------------------------

def test_ncr_image_tag_from_the_latest_tag_of_an_image_without_tags_says_so(emulator):
    from ncr_provider import NcrImage, NcrImageTag
    from ncr_provider.testing import ProviderMocks, ProviderServer, run_program, use_mocks

    emulator.add_image("prod", "empty/repo")

    def program():
        image = NcrImage("empty", registry="prod", image_name="empty/repo", include_tags=True)
        NcrImageTag("newest", registry="prod", image_name="empty/repo", tag=image.latest_tag)

    with ProviderServer() as server:
        server.configure(emulator.stack_config())
        with use_mocks(ProviderMocks(server)), pytest.raises(ConfigurationError) as caught:
            run_program(program)
    assert str(caught.value) == (
        "NcrImageTag 'newest' has no tag to read in prod/empty/repo: its tag input resolved to None. An NcrImage's "
        "latest_tag is None when the image has no tags (or include_tags is not set); push a tag, name one, or use "
        "most_recent=True")
    assert "'None'" not in str(caught.value)
