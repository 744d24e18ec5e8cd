"""Selecting a tag by name, by digest, or as the most recent (matching a pattern): the rule, and NcrImageTag's provider."""

from __future__ import annotations

import pytest
from helpers import SELECT_ONE, configured
from pulumi.runtime.rpc import UNKNOWN

from ncr_provider import NcrImageTagProvider
from ncr_provider.errors import ConfigurationError, NoMatchingTagError
from ncr_provider.selection import selection_problems, tag_selection

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


@pytest.fixture
def tag_provider(emulator):
    return configured(emulator.stack_config(), cls=NcrImageTagProvider)


@pytest.fixture
def releases(emulator):
    """An image whose tags move: two point at DIGEST_A (the newest of them `latest`), one release at DIGEST_B."""
    emulator.add_image("prod", "rel/app", tag_mutability_enabled=True)
    emulator.add_tag("prod", "rel/app", "v1.0.0", digest=DIGEST_B, last_updated=1_700_000_000_000)
    emulator.add_tag("prod", "rel/app", "v1.1.0", digest=DIGEST_A, last_updated=1_700_000_100_000)
    emulator.add_tag("prod", "rel/app", "latest", digest=DIGEST_A, last_updated=1_700_000_200_000)
    emulator.add_tag("prod", "rel/app", "nightly-7", digest="sha256:" + "c" * 64, last_updated=1_700_000_300_000)
    emulator.clear_requests()
    return emulator


# -- the rule ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("given", "expected"), [
    ({}, [("tag", SELECT_ONE + "got none of them")]),
    ({"most_recent": False}, [("tag", SELECT_ONE + "got none of them")]),
    ({"tag": "1.0", "digest": DIGEST_A}, [("tag", SELECT_ONE + "got tag, digest")]),
    ({"tag": "1.0", "most_recent": True}, [("tag", SELECT_ONE + "got tag, most_recent")]),
    ({"tag": "1.0", "tag_pattern": "^1"}, [("tag_pattern", "tag_pattern narrows most_recent=True; it needs "
                                                           "most_recent=True")]),
    ({"digest": "sha256:xyz"}, [("digest", "Invalid digest 'sha256:xyz': a digest is sha256:<64 lowercase hex digits> or "
                                "sha512:<128 lowercase hex digits>")]),
    ({"most_recent": "yes"}, [("most_recent", "most_recent must be true or false, got str")]),
    ({"most_recent": True, "tag_pattern": "v(1"},
     [("tag_pattern", "tag_pattern 'v(1' is not a regular expression: missing ), unterminated subpattern at "
                      "position 1")]),
    ({"most_recent": True, "tag_pattern": ""},
     [("tag_pattern", "tag_pattern is empty; leave it out to take the most recent tag of all")]),
    ({"most_recent": True, "tag_pattern": "x" * 257}, [("tag_pattern", "tag_pattern is longer than 256 characters")]),
    ({"most_recent": True, "tag_pattern": 7}, [("tag_pattern", "tag_pattern must be text (a regular expression), "
                                                               "got int")]),
])
def test_every_wrong_selection_names_its_input(given, expected):
    assert selection_problems(**given) == expected


@pytest.mark.parametrize("given", [{"tag": "1.0"}, {"digest": DIGEST_A}, {"most_recent": True},
                                   {"most_recent": True, "tag_pattern": r"^v\d+\.\d+\.\d+$"}])
def test_each_single_way_of_selecting_is_accepted(given):
    assert selection_problems(**given) == []
    assert tag_selection(**given).needs_tag_list is ("tag" not in given)


def test_values_unknown_at_preview_are_not_judged():
    assert selection_problems(tag=UNKNOWN, digest=None, most_recent=None, unknown=UNKNOWN) == []
    assert selection_problems(tag=UNKNOWN, most_recent=True, tag_pattern="(", unknown=UNKNOWN)[0][0] == "tag_pattern"


# -- NcrImageTag's provider -------------------------------------------------------------------------

def test_check_fails_a_resource_selecting_twice_and_sends_nothing(tag_provider, emulator):
    failures = tag_provider.check({}, {"registry": "prod", "image_name": "web", "tag": "1", "digest": DIGEST_A}).failures

    assert [(f.property, f.reason) for f in failures] == [("tag", SELECT_ONE + "got tag, digest")]
    assert emulator.requests == []


def test_select_by_digest_gives_the_newest_tag_pointing_at_it_and_every_such_tag(tag_provider, releases):
    result = tag_provider.read(f"prod/rel/app@{DIGEST_A}", {"digest": DIGEST_A})

    outs = result.outs
    assert result.id == f"prod/rel/app@{DIGEST_A}"
    assert (outs["tag"], outs["digest"], outs["tags"]) == ("latest", DIGEST_A, ["latest", "v1.1.0"])
    assert outs["image_ref"] == "prod.kr.ncr.ntruss.com/rel/app:latest"
    assert outs["image_ref_by_digest"] == f"prod.kr.ncr.ntruss.com/rel/app@{DIGEST_A}"
    assert [r.raw_path for r in releases.requests] == ["/ncr/api/v2/repositories/prod/rel%2Fapp/tags?page=1&pagesize=100"]


def test_select_most_recent_takes_the_newest_tag(tag_provider, releases):
    outs = tag_provider.read("prod/rel/app", {"most_recent": True}).outs

    assert (outs["tag"], outs["tags"], outs["most_recent"], outs["tag_pattern"]) == (
        "nightly-7", ["nightly-7"], True, None)


def test_select_most_recent_matching_a_pattern_skips_newer_tags_that_do_not_match(tag_provider, releases):
    outs = tag_provider.read("prod/rel/app", {"most_recent": True, "tag_pattern": r"^v\d+\.\d+\.\d+$"}).outs

    assert (outs["tag"], outs["digest"], outs["tags"]) == ("v1.1.0", DIGEST_A, ["latest", "v1.1.0"])


def test_no_matching_tag_says_what_was_asked(tag_provider, releases):
    with pytest.raises(NoMatchingTagError, match=r"^No tag of image prod/rel/app in region KR matches tag_pattern "
                                                 r"'\^release-'\.$"):
        tag_provider.read("prod/rel/app", {"most_recent": True, "tag_pattern": "^release-"})
    with pytest.raises(NoMatchingTagError, match=rf"^No tag of image prod/rel/app in region KR points at digest "
                                                 rf"{DIGEST_B.replace('b', 'e')}\.$"):
        tag_provider.read(f"prod/rel/app@{DIGEST_B.replace('b', 'e')}", {})


def test_most_recent_of_an_image_without_tags_says_it_has_none(tag_provider, emulator):
    emulator.add_image("prod", "empty/repo")

    with pytest.raises(NoMatchingTagError, match=r"in region KR exists \(the image has no tags\)\.$"):
        tag_provider.read("prod/empty/repo", {"most_recent": True})


@pytest.mark.parametrize(("tag_id", "props", "message"), [
    ("prod/rel/app", {}, r"^The NcrImageTag id 'registry/image' names no tag: add ':tag' or '@digest', or set "
                         r"most_recent=True$"),
    ("prod/rel/app", {"most_recent": True, "tag_pattern": "("}, r"^Invalid NcrImageTag input tag_pattern: "),
    ("prod/rel/app:latest", {"most_recent": True}, r"^The NcrImageTag id names its tag: most_recent and tag_pattern"),
])
def test_a_read_whose_id_and_inputs_disagree_is_refused_before_any_request(tag_provider, releases, tag_id, props,
                                                                           message):
    with pytest.raises(ConfigurationError, match=message):
        tag_provider.read(tag_id, props)
    assert releases.requests == []


# -- level 2 (the real provider server) and level 3 (a program under mocks) ----------------------------

WEB_1_2_1 = "sha256:16163e362774884fee5518ed9711677cbf3f6f2d728399b1857e63f1f2fe438c"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from helpers import provider_server

    from ncr_provider.emulator import NcrEmulator

    with NcrEmulator() as emu, provider_server(tmp_path_factory.mktemp("home"), emu.stack_config()) as server:
        yield server


def test_over_grpc_most_recent_matching_a_pattern_and_by_digest(server):
    from ncr_provider.sites import TAG_TYPE_TOKEN

    _, newest = server.read("prod/team/web", {"registry": "prod", "image_name": "team/web", "most_recent": True,
                                              "tag_pattern": r"^1\.1\."}, type_=TAG_TYPE_TOKEN)
    _, pinned = server.read(f"prod/team/web@{WEB_1_2_1}", {"registry": "prod", "image_name": "team/web",
                                                           "digest": WEB_1_2_1}, type_=TAG_TYPE_TOKEN)

    assert (newest["tag"], newest["most_recent"], newest["tag_pattern"]) == ("1.1.0", True, r"^1\.1\.")
    assert (pinned["tag"], pinned["tags"], pinned["image_ref"]) == (
        "1.2.1", ["1.2.1"], "prod.kr.ncr.ntruss.com/team/web:1.2.1")


def test_over_grpc_check_fails_two_selections_naming_the_input(server):
    from ncr_provider.sites import TAG_TYPE_TOKEN

    _, failures = server.check({}, {"registry": "prod", "image_name": "team/web", "tag": "1", "most_recent": True},
                               type_=TAG_TYPE_TOKEN)

    assert failures == [("tag", SELECT_ONE + "got tag, most_recent")]


def test_a_program_selects_tags_every_way_and_get_takes_every_id_form(server):
    import pulumi

    from ncr_provider import NcrImageTag
    from ncr_provider.testing import ProviderMocks, run_program, use_mocks

    def program():
        newest = NcrImageTag("newest", registry="prod", image_name="team/web", most_recent=True)
        pinned = NcrImageTag("pinned", registry="prod", image_name="team/web", digest=WEB_1_2_1)
        again = NcrImageTag.get("again", "prod/team/web", most_recent=True, tag_pattern=r"^1\.0")
        by_digest = NcrImageTag.get("by-digest", f"prod/team/web@{WEB_1_2_1}")
        pulumi.export("newest", newest.tag)
        pulumi.export("pinned", pinned.tags)
        pulumi.export("again", again.tag)
        pulumi.export("by_digest", by_digest.image_ref)
        pulumi.export("arm", newest.platforms.apply(lambda ps: [p.image_ref_by_digest for p in ps
                                                                 if p.architecture == "arm64"]))

    mocks = ProviderMocks(server)
    with use_mocks(mocks):
        exports = run_program(program)

    assert exports["newest"] == "1.2.1" and exports["again"] == "1.0.0" and exports["pinned"] == ["1.2.1"]
    assert exports["by_digest"] == "prod.kr.ncr.ntruss.com/team/web:1.2.1"
    assert len(exports["arm"]) == 1 and exports["arm"][0].startswith("prod.kr.ncr.ntruss.com/team/web@sha256:")
    assert sorted(mocks.reads) == [("again", "prod/team/web"), ("by-digest", f"prod/team/web@{WEB_1_2_1}"),
                                   ("newest", "prod/team/web"), ("pinned", f"prod/team/web@{WEB_1_2_1}")]


def test_a_program_selecting_twice_fails_on_the_line_that_wrote_it():
    from ncr_provider import NcrImageTag

    with pytest.raises(ConfigurationError, match=r"got tag, digest$"):
        NcrImageTag("x", registry="prod", image_name="web", tag="1", digest=DIGEST_A)
    with pytest.raises(ConfigurationError, match=r"tag_pattern narrows most_recent=True"):
        NcrImageTag("x", registry="prod", image_name="web", tag="1", tag_pattern="^1")


def test_a_newest_tag_without_a_digest_fails_instead_of_falling_back_to_an_older_one(tag_provider, emulator):
    from ncr_provider.errors import InvalidResponseError

    emulator.enqueue(status=200, body={"count": 2, "next": None, "results": [
        {"name": "new", "digest": None, "last_updated": 2_000, "images": []},
        {"name": "old", "digest": DIGEST_A, "last_updated": 1_000, "images": []}]})

    with pytest.raises(InvalidResponseError, match=r"for tag prod/rel/app:new: NCR reported no digest for the tag$"):
        tag_provider.read("prod/rel/app", {"most_recent": True})
