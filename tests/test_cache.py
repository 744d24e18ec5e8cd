"""The on-disk cache: answers outlive one run, expire after the TTL (a tag of an immutable repository
never does), files are replaced atomically, carry no credentials, and a corrupt file is ignored."""

from __future__ import annotations

import json
import logging
import os
import threading

import pytest
from cli_runner import run_cli
from helpers import FAST_OPTIONS

from ncr_provider.cache import DETAILS, PRIVATE_IDS, TAG, TAGS, DiskCache, cache_from
from ncr_provider.config import resolve_settings
from ncr_provider.errors import ConfigurationError
from ncr_provider.lookup import ImageLookup
from ncr_provider.model import ImageDetails, TagDetails
from ncr_provider.names import parse_reference

WEB = parse_reference("prod.kr.ncr.ntruss.com/team/web:1.2.1")  # tags immutable
API = parse_reference("prod.kr.ncr.ntruss.com/team/api:build-144")  # tags mutable


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def run(emulator, cache: DiskCache, *work):
    """One run of a command or pack: a fresh lookup (no memory of earlier runs but the disk cache)."""
    return run_against(emulator, cache, *work)


def run_against(emulator, cache: DiskCache, *work):
    settings = resolve_settings({"endpoint": emulator.url, "access_key": emulator.access_key,
                                 "secret_key": emulator.secret_key})
    with ImageLookup(settings, concurrency=2, cache=cache, options=FAST_OPTIONS) as lookup:
        return [step(lookup) for step in work]


def details(ref):
    return lambda lookup: lookup.lookup(ref)


def tag(ref):
    return lambda lookup: lookup.lookup_tag(ref, ref.tag)


def tags(ref):
    return lambda lookup: lookup.lookup_tags(ref)


def test_a_second_run_is_answered_from_disk(ncp_env, tmp_path):
    # given one run that looked up an image, its tag list and one tag
    cache = DiskCache(tmp_path / "cache")
    first = run(ncp_env, cache, details(API), tags(API), tag(API))
    assert len(ncp_env.requests) == 3
    ncp_env.clear_requests()

    # when a new run (a new lookup, as a new process would make) asks the same questions
    second = run(ncp_env, DiskCache(tmp_path / "cache"), details(API), tags(API), tag(API))

    # then nothing is sent, and the answers are equal to NCR's
    assert ncp_env.requests == []
    assert second == first
    assert isinstance(second[0], ImageDetails) and second[0].tag_mutability_enabled is True
    assert len(second[1]) == 45 and all(isinstance(t, TagDetails) for t in second[1])
    assert second[2].digest == first[2].digest and second[2].platforms == first[2].platforms


def test_answers_expire_after_the_ttl(ncp_env, tmp_path):
    clock = Clock()
    cache = DiskCache(tmp_path, ttl_seconds=60, clock=clock)
    run(ncp_env, cache, details(API), tag(API))
    ncp_env.clear_requests()

    # within the TTL: from disk
    clock.now += 60
    run(ncp_env, cache, details(API), tag(API))
    assert ncp_env.requests == []

    # past it: asked again, the tag of a mutable repository included
    clock.now += 1
    run(ncp_env, cache, details(API), tag(API))
    assert len(ncp_env.requests) == 2


def test_a_tag_of_an_immutable_repository_never_expires(ncp_env, tmp_path):
    # given a run that learnt the repository's tags are immutable, then read a tag
    clock = Clock()
    cache = DiskCache(tmp_path, ttl_seconds=60, clock=clock)
    run(ncp_env, cache, details(WEB), tag(WEB))
    ncp_env.clear_requests()

    # when a run a year later asks for the tag, and for the details
    clock.now += 365 * 24 * 3600
    answers = run(ncp_env, cache, tag(WEB), details(WEB))

    # then the tag's digest comes from disk; the details (which can change) are asked again
    assert answers[0].digest.startswith("sha256:")
    assert [r.path for r in ncp_env.requests] == ["/ncr/api/v2/repositories/prod/team/web"]


def test_errors_are_never_cached(ncp_env, tmp_path):
    cache = DiskCache(tmp_path)
    missing = parse_reference("prod/team/nothing")
    assert "not found" in str(run(ncp_env, cache, details(missing))[0])
    assert run(ncp_env, cache, details(missing))[0] is not None
    assert len(ncp_env.requests) == 2
    assert not list(tmp_path.rglob("*.json"))


@pytest.mark.parametrize("damage", [
    "{not json",
    "",
    json.dumps({"format": 1}),
    json.dumps([1, 2]),
    "\udcff",
])
def test_a_corrupt_file_is_ignored_with_a_warning_and_replaced(ncp_env, tmp_path, caplog, damage):
    # given a cached answer whose file was then damaged
    cache = DiskCache(tmp_path)
    run(ncp_env, cache, details(API))
    path = cache.for_endpoint(ncp_env.url).path_for(DETAILS, "public", "KR", "prod", "team/api")
    path.write_bytes(damage.encode("utf-8", "surrogateescape"))
    ncp_env.clear_requests()

    # when the next run reads it
    with caplog.at_level(logging.WARNING, logger="ncr_provider.cache"):
        answer = run(ncp_env, cache, details(API))[0]

    # then it warns naming the file, asks NCR, and writes a good answer back
    assert isinstance(answer, ImageDetails) and answer.tag_mutability_enabled is True
    assert len(ncp_env.requests) == 1
    assert any(str(path) in record.getMessage() and record.levelname == "WARNING" for record in caplog.records)
    assert json.loads(path.read_text())["answer"]["namespace"] == "prod"


def test_an_entry_with_a_wrong_answer_shape_is_corrupt_not_trusted(ncp_env, tmp_path, caplog):
    # given an entry whose answer says a pull count is text (what NCR's parser refuses)
    cache = DiskCache(tmp_path)
    run(ncp_env, cache, details(API))
    path = cache.for_endpoint(ncp_env.url).path_for(DETAILS, "public", "KR", "prod", "team/api")
    entry = json.loads(path.read_text())
    entry["answer"]["pull_count"] = "many"
    path.write_text(json.dumps(entry))

    with caplog.at_level(logging.WARNING, logger="ncr_provider.cache"):
        run(ncp_env, cache, details(API))

    assert len(ncp_env.requests) == 2
    assert "Ignoring corrupt NCR cache file" in caplog.text


def test_an_entry_copied_under_another_images_name_is_not_used(ncp_env, tmp_path, caplog):
    cache = DiskCache(tmp_path)
    run(ncp_env, cache, details(API), details(WEB))
    web = cache.for_endpoint(ncp_env.url).path_for(DETAILS, "public", "KR", "prod", "team/web")
    web.write_bytes(cache.for_endpoint(ncp_env.url).path_for(DETAILS, "public", "KR", "prod", "team/api").read_bytes())
    ncp_env.clear_requests()

    with caplog.at_level(logging.WARNING, logger="ncr_provider.cache"):
        answer = run(ncp_env, cache, details(WEB))[0]

    assert answer.tag_mutability_enabled is False
    assert len(ncp_env.requests) == 1


def test_the_cache_never_holds_credentials(ncp_env, tmp_path):
    cache = DiskCache(tmp_path)
    run(ncp_env, cache, details(API), tags(API), tag(WEB))
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) == 3
    for path in files:
        text = path.read_text()
        assert ncp_env.secret_key not in text and ncp_env.access_key not in text
        assert "signature" not in text.lower()


def test_concurrent_writers_leave_one_whole_file_and_no_temporaries(tmp_path):
    # given many threads writing the same key at once (two pack processes or CI jobs on one cache)
    cache = DiskCache(tmp_path)
    answers = [ImageDetails.from_wire({"name": "api", "namespace": "prod", "pull_count": n,
                                       "tag_mutability_enabled": True}) for n in range(16)]
    barrier = threading.Barrier(len(answers))

    def write(answer):
        barrier.wait()
        for _ in range(20):
            cache.put(DETAILS, "public", "KR", "prod", "team/api", answer)

    threads = [threading.Thread(target=write, args=(a,)) for a in answers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # then the file holds one writer's whole answer, and no temporary file is left behind
    assert cache.get(DETAILS, "public", "KR", "prod", "team/api") in answers
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["team%2Fapi.details.json"]


def test_keys_separate_endpoint_site_region_registry_image_and_tag(tmp_path):
    cache = DiskCache(tmp_path)
    paths = {
        cache.path_for(DETAILS, "public", "KR", "prod", "team"),
        cache.path_for(DETAILS, "public", "KR", "prod", "team/web"),
        cache.path_for(DETAILS, "public", "SGN", "prod", "team/web"),
        cache.path_for(DETAILS, "gov", "KR", "prod", "team/web"),
        cache.path_for(DETAILS, "public", "KR", "dev", "team/web"),
        cache.path_for(TAGS, "public", "KR", "prod", "team/web"),
        cache.path_for(TAG, "public", "KR", "prod", "team/web", "1.0"),
        cache.path_for(TAG, "public", "KR", "prod", "team/web", "1.1"),
        cache.for_endpoint("http://127.0.0.1:9").path_for(DETAILS, "public", "KR", "prod", "team/web"),
    }
    assert len(paths) == 9


def test_cache_from_option_then_environment_and_off_by_default(tmp_path):
    assert cache_from(None, environ={}) is None
    from_env = cache_from(None, environ={"NCR_CACHE_DIR": str(tmp_path / "env"), "NCR_CACHE_TTL": "30"})
    assert (from_env.directory, from_env.ttl_seconds) == (tmp_path / "env", 30)
    explicit = cache_from(str(tmp_path / "opt"), 0, environ={"NCR_CACHE_DIR": str(tmp_path / "env")})
    assert (explicit.directory, explicit.ttl_seconds) == (tmp_path / "opt", 0)
    assert cache_from(str(tmp_path), environ={}).ttl_seconds == 300


@pytest.mark.parametrize(("ttl", "env", "words"), [
    (None, "soon", "Invalid NCR_CACHE_TTL 'soon'"),
    (-1, "", "Invalid the cache TTL -1"),
    (float("nan"), "", "expected 0 or more seconds"),
])
def test_a_bad_ttl_is_a_configuration_error_naming_its_source(tmp_path, ttl, env, words):
    with pytest.raises(ConfigurationError, match=words):
        cache_from(str(tmp_path), ttl, environ={"NCR_CACHE_TTL": env})


# -- `ncr-image check --cache` ------------------------------------------------------------------

def test_check_with_a_cache_sends_nothing_the_second_time(ncp_env, tmp_path):


    # given a first gate run with --cache (tag ages read too)
    args = ("check", "--require-immutable", "--max-tag-age", "9999", "prod/team/web", "prod/hello/world")
    first = run_cli(*args, "--cache", str(tmp_path / "c"))
    assert first.returncode == 0, first.stderr
    assert len(ncp_env.requests) == 4
    ncp_env.clear_requests()

    # when it runs again, the directory given through NCR_CACHE_DIR this time
    second = run_cli(*args, env={**os.environ, "NCR_CACHE_DIR": str(tmp_path / "c")})

    # then the same report, and not one request
    assert second.returncode == 0 and second.stdout == first.stdout
    assert ncp_env.requests == []


def test_check_without_a_cache_writes_nothing_and_asks_every_time(ncp_env, tmp_path):


    workdir = tmp_path / "work"
    workdir.mkdir()
    for _ in range(2):
        assert run_cli("check", "prod/team/web", cwd=workdir).returncode == 0
    assert len(ncp_env.requests) == 2
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_check_with_a_bad_cache_ttl_in_the_environment_is_a_configuration_error(ncp_env, tmp_path):
    # a bad setting is bad usage (2) of type ConfigurationError, as a bad NCLOUD_REGION is; not "could not check"
    for args in (["--cache", str(tmp_path)], []):
        result = run_cli("check", "prod/team/web", *args, "-o", "json",
                         env={**os.environ, "NCR_CACHE_TTL": "soon", "NCR_CACHE_DIR": str(tmp_path / "env")})
        assert result.returncode == 2, result.stderr
        assert "Invalid NCR_CACHE_TTL 'soon'" in result.stderr
        error = json.loads(result.stdout)["error"]
        assert error["type"] == "ConfigurationError" and "NCR_CACHE_TTL" in error["message"]
    assert ncp_env.requests == []


def test_private_endpoint_ids_are_cached_per_region(ncp_env, tmp_path):
    # given a reference through prod's private endpoint: placing it reads the registry list
    private = parse_reference("k7x2p9q4m1.kr.private-ncr.ntruss.com/team/web:1.2.1")
    cache = DiskCache(tmp_path)
    first = run(ncp_env, cache, lambda lookup: lookup.key_for(private), details(private))
    assert [r.path for r in ncp_env.requests] == ["/ncr/api/v2/repositories", "/ncr/api/v2/repositories/prod/team/web"]
    ncp_env.clear_requests()

    # when a second run places and looks it up again
    second = run(ncp_env, cache, lambda lookup: lookup.key_for(private), details(private))

    # then it maps to the same registry without a request
    assert second == first and second[0].registry == "prod"
    assert ncp_env.requests == []
    assert cache.for_endpoint(ncp_env.url).path_for(PRIVATE_IDS, "public", "KR", "", "").is_file()


def test_answers_from_another_endpoint_are_kept_apart(tmp_path):
    # given two NCR endpoints (an emulator and another, or two accounts' gateways) sharing one cache directory
    from ncr_provider.emulator import NcrEmulator

    with NcrEmulator() as first, NcrEmulator() as second:
        second.add_image("prod", "team/api", tag_mutability_enabled=False)
        cache = DiskCache(tmp_path)
        [from_first] = run_against(first, cache, details(API))
        [from_second] = run_against(second, cache, details(API))

        # then each endpoint was asked, and each answer is its own
        assert (from_first.tag_mutability_enabled, from_second.tag_mutability_enabled) == (True, False)
        assert len(first.requests) == len(second.requests) == 1
