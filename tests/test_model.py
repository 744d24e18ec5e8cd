"""Parsing the image-details body: tolerant of gaps, strict about shape."""

from __future__ import annotations

import pytest

from ncr_provider.errors import InvalidResponseError
from ncr_provider.model import ImageDetails, RegistryDetails, TagDetails, iso_from_ms, newest_first, parse_json_object

SEED = (b'{"can_edit": true, "description": "ncp docker", "full_description": "Naver Cloud Platform Docker",'
        b' "is_automated": null, "is_private": null, "last_updated": 1711928488000, "name": "ncpdocker",'
        b' "namespace": "ncpdocker", "private_id": "", "pull_count": 0, "repository_type": "image",'
        b' "star_count": null, "status": 0, "tag_mutability_enabled": true, "user": null}')


def test_seed_document_parses_to_typed_fields():
    details = ImageDetails.from_wire(parse_json_object(SEED, "image"))
    assert details.description == "ncp docker"
    assert details.pull_count == 0 and isinstance(details.pull_count, int)
    assert details.tag_mutability_enabled is True
    assert details.last_updated == 1711928488000
    assert details.last_updated_at == "2024-03-31T23:41:28Z"
    assert details.to_dict()["last_updated_at"] == "2024-03-31T23:41:28Z"
    assert details.to_dict()["namespace"] == "ncpdocker"


def test_last_update_alias_nulls_missing_and_extra_fields():
    details = ImageDetails.from_wire({"last_update": 1000, "description": None, "brand_new_field": [1]})
    assert details.last_updated == 1000
    assert details.description is None and details.pull_count is None and details.tag_mutability_enabled is None


@pytest.mark.parametrize("body,reason", [
    (b"<html>oops</html>", "the body is not JSON"),
    (b"[1, 2]", "expected a JSON object, got a JSON array"),
    (b'"text"', "expected a JSON object, got a JSON string"),
])
def test_bodies_that_are_not_objects_are_errors(body, reason):
    with pytest.raises(InvalidResponseError) as caught:
        parse_json_object(body, "image prod/web")
    assert str(caught.value) == f"NCR returned an invalid response for image prod/web: {reason}"


@pytest.mark.parametrize("value,shown", [("12", "string '12'"), (True, "boolean True"), ([], "array []")])
def test_pull_count_must_be_a_number(value, shown):
    with pytest.raises(InvalidResponseError) as caught:
        ImageDetails.from_wire({"pull_count": value}, "image prod/web")
    assert str(caught.value) == f"NCR returned an invalid response for image prod/web: pull_count must be a number, got {shown}"


@pytest.mark.parametrize("value,shown", [
    ("", "string ''"), (0, "number 0"), (1, "number 1"), ([], "array []"), ({}, "object {}"),
    ("false", "string 'false'"), ("true", "string 'true'"), ("0", "string '0'"),
])
def test_tag_mutability_must_be_a_json_boolean_never_read_as_immutable(value, shown):
    # given a body whose tag_mutability_enabled is falsy or truthy but not a boolean
    with pytest.raises(InvalidResponseError) as caught:
        ImageDetails.from_wire({"tag_mutability_enabled": value}, "image prod/web")
    # then it is an invalid response (could not check), never "immutable"
    assert str(caught.value) == ("NCR returned an invalid response for image prod/web: "
                                 f"tag_mutability_enabled must be true or false, got {shown}")


@pytest.mark.parametrize("value", [True, False, None])
def test_tag_mutability_true_false_and_null_are_read_as_they_are(value):
    assert ImageDetails.from_wire({"tag_mutability_enabled": value}).tag_mutability_enabled is value


@pytest.mark.parametrize("field,value", [("namespace", 1), ("private_id", False), ("name", ["x"])])
def test_names_a_lookup_depends_on_must_be_strings(field, value):
    with pytest.raises(InvalidResponseError, match=f"{field} must be a string"):
        ImageDetails.from_wire({field: value}, "image prod/web")


def test_fields_documented_as_not_used_never_fail_a_lookup():
    details = ImageDetails.from_wire({"can_edit": "yes", "is_private": 0, "star_count": "many", "status": [],
                                      "tag_mutability_enabled": False})
    assert (details.can_edit, details.is_private, details.star_count, details.status) == (None, None, None, None)
    assert details.tag_mutability_enabled is False


def test_registry_entries_map_private_ids_and_refuse_wrong_types():
    entry = RegistryDetails.from_wire({"name": "prod", "private_id": "k7x2p9q4m1", "bucket": "b", "status": "RUNNING"})
    assert (entry.name, entry.private_id) == ("prod", "k7x2p9q4m1")
    with pytest.raises(InvalidResponseError, match="private_id must be a string, got number 7"):
        RegistryDetails.from_wire({"name": "prod", "private_id": 7})
    with pytest.raises(InvalidResponseError, match="name must be a string, got boolean True"):
        RegistryDetails.from_wire({"name": True, "private_id": "x"})


def test_iso_from_ms_edges():
    assert iso_from_ms(None) is None
    assert iso_from_ms(0) == "1970-01-01T00:00:00Z"
    assert iso_from_ms(1500) == "1970-01-01T00:00:01.500Z"
    assert iso_from_ms(10**20) is None


# -- tags -----------------------------------------------------------------------------------------

TAG = {
    "creator": "web-ci", "digest": "sha256:" + "16" * 32, "full_size": 102028836, "id": 7, "image_id": 3,
    "images": [
        {"architecture": "amd64", "created": 1717400000000, "digest": "sha256:" + "3a" * 32, "features": "",
         "latest_pulled": 1717403600000, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
         "os": "linux", "os_features": "", "os_version": "", "size": 50182115, "updated": 1717400000000, "variant": None},
        {"architecture": "arm64", "created": 1717400000000, "digest": "sha256:" + "15" * 32, "latest_pulled": None,
         "os": "linux", "size": 51846721, "updated": 1717400000000, "variant": "v8"},
    ],
    "last_updated": 1717400000000, "last_updater": "web-ci", "name": "1.2.1",
}


def test_tag_parses_to_typed_fields_and_platforms():
    tag = TagDetails.from_wire(TAG, "tag prod/team/web:1.2.1")
    assert (tag.name, tag.digest, tag.full_size, tag.creator, tag.last_updater) == (
        "1.2.1", "sha256:" + "16" * 32, 102028836, "web-ci", "web-ci")
    assert tag.last_updated_at == "2024-06-03T07:33:20Z"
    assert [(p.os, p.architecture, p.variant, p.size) for p in tag.platforms] == [
        ("linux", "amd64", None, 50182115), ("linux", "arm64", "v8", 51846721)]
    assert tag.platforms[1].latest_pulled is None
    as_dict = tag.to_dict()
    assert as_dict["last_updated_at"] == "2024-06-03T07:33:20Z"
    assert as_dict["platforms"][0] == {
        "architecture": "amd64", "os": "linux", "digest": "sha256:" + "3a" * 32, "size": 50182115,
        "created": 1717400000000, "updated": 1717400000000, "latest_pulled": 1717403600000, "variant": None}
    assert isinstance(as_dict["platforms"], list)


def test_tag_tolerates_nulls_missing_fields_and_no_images():
    tag = TagDetails.from_wire({"name": "x", "digest": None, "images": None, "brand_new": {"a": 1}})
    assert (tag.digest, tag.full_size, tag.last_updated, tag.platforms) == (None, None, None, ())
    assert TagDetails.from_wire({"name": "y"}).platforms == ()
    with pytest.raises(InvalidResponseError) as caught:
        tag.require_digest("tag prod/web:x")
    assert str(caught.value) == "NCR returned an invalid response for tag prod/web:x: NCR reported no digest for the tag"


DIGEST_RULE = "must be sha256:<64 lowercase hex> or sha512:<128 lowercase hex>"


@pytest.mark.parametrize("digest", ["sha256:" + "0f" * 32, "sha512:" + "0f" * 64])
def test_tag_digests_of_both_algorithms_docker_pulls_by_are_kept(digest):
    assert TagDetails.from_wire({**TAG, "digest": digest}).digest == digest


@pytest.mark.parametrize("change,reason", [
    ({"full_size": "12"}, "full_size must be a number, got string '12'"),
    ({"images": {"os": "linux"}}, "images must be a list, got a JSON object"),
    ({"images": ["linux/amd64"]}, "each entry of 'images' must be a JSON object, got a JSON string"),
    ({"images": [{"size": True}]}, "size must be a number, got boolean True"),
    ({"digest": "sha256:not-hex"}, f"digest {DIGEST_RULE}, got string 'sha256:not-hex'"),
    ({"digest": 12}, f"digest {DIGEST_RULE}, got number 12"),
    ({"digest": "sha256:" + "AB" * 32}, f"digest {DIGEST_RULE}, got string 'sha256:{'AB' * 32}'"),
    ({"digest": "sha256:" + "ab" * 31}, f"digest {DIGEST_RULE}, got string 'sha256:{'ab' * 31}'"),
    ({"digest": "md5:" + "ab" * 16}, f"digest {DIGEST_RULE}, got string 'md5:{'ab' * 16}'"),
    ({"name": 12}, "name must be a string, got number 12"),
    ({"images": [{"os": ["linux"]}]}, "os must be a string, got array ['linux']"),
])
def test_tag_with_wrong_types_is_an_invalid_response(change, reason):
    with pytest.raises(InvalidResponseError) as caught:
        TagDetails.from_wire({**TAG, **change}, "tag prod/web:1")
    assert str(caught.value) == f"NCR returned an invalid response for tag prod/web:1: {reason}"


def test_newest_first_orders_by_time_then_name_with_unknown_times_last():
    def tag(name, when):
        return TagDetails(name, None, None, when, None, None)

    ordered = newest_first([tag("b", 1), tag("old", 0), tag("none", None), tag("a", 1), tag("new", 5)])
    assert [t.name for t in ordered] == ["new", "a", "b", "old", "none"]
