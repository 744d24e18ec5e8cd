"""Parsing the image-details body: tolerant of gaps, strict about shape."""

from __future__ import annotations

import pytest

from ncr_provider.errors import InvalidResponseError
from ncr_provider.model import ImageDetails, iso_from_ms, parse_json_object

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


def test_iso_from_ms_edges():
    assert iso_from_ms(None) is None
    assert iso_from_ms(0) == "1970-01-01T00:00:00Z"
    assert iso_from_ms(1500) == "1970-01-01T00:00:01.500Z"
    assert iso_from_ms(10**20) is None
