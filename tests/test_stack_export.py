"""`--from-stack`'s reader on its own: which resources of a `pulumi stack export` it reads, and where it says each
reference was found. (test_cli_check runs the same through the command.)"""

from __future__ import annotations

from ncr_provider.cli.stack_export import from_resources
from ncr_provider.sites import IMAGE_TYPE_TOKEN

DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def resource(type_: str, name: str, inputs: dict, outputs: dict | None = None, **extra: object) -> dict:
    return {"urn": f"urn:pulumi:dev::shop::{type_}::{name}", "type": type_, "inputs": inputs,
            "outputs": inputs if outputs is None else outputs, **extra}


def pod(*images: str) -> dict:
    return {"spec": {"template": {"spec": {"containers": [{"name": f"c{i}", "image": image}
                                                         for i, image in enumerate(images)]}}}}


def test_a_kubernetes_deployment_is_read_like_any_other_resource():
    # given a Deployment whose inputs and outputs both name two NCR images
    scan = from_resources([resource(DEPLOYMENT, "shop", pod("prod.kr.ncr.ntruss.com/team/api:latest",
                                                            "prod.sg.ncr.ntruss.com/team/web@sha256:" + "a" * 64))],
                          "stack.json")
    # then each image is one target, placed by its host, and named with the resource and the property path
    found = [(t.text, t.ref.key, t.ref.region, t.ref.tag, t.origin) for t in scan.targets]
    assert found == [
        ("prod.kr.ncr.ntruss.com/team/api:latest", "prod/team/api", "KR", "latest",
         "stack.json: shop (kubernetes:apps/v1:Deployment) inputs.spec.template.spec.containers[0].image"),
        ("prod.sg.ncr.ntruss.com/team/web@sha256:" + "a" * 64, "prod/team/web", "SGN", None,
         "stack.json: shop (kubernetes:apps/v1:Deployment) inputs.spec.template.spec.containers[1].image"),
    ]
    assert all(t.in_stack and t.error is None for t in scan.targets)


def test_an_ncr_image_resource_is_read_from_its_outputs_and_other_types_from_their_properties():
    # given an NcrImage, a Docker container and a resource that names no NCR image
    scan = from_resources([
        resource(IMAGE_TYPE_TOKEN, "web", {"registry": "prod", "image_name": "team/web"},
                 {"registry": "prod", "image_name": "team/web", "region": "jpn"}),
        resource("docker:index/container:Container", "cart", {"image": "sgn-apps.sg.ncr.ntruss.com/shop/cart:3.1.0"}),
        resource("aws:s3/bucket:Bucket", "logs", {"bucket": "logs"}),
    ], "stack.json")
    # then the NcrImage is one target in its region, the container's reference another, and nothing else
    assert [(t.ref.key, t.ref.region, t.origin.rsplit(" ", 1)[-1]) for t in scan.targets] == [
        ("prod/team/web", "JPN", "NcrImage"), ("sgn-apps/shop/cart", "SGN", "inputs.image")]


def test_a_ciphertext_secret_is_named_as_not_inspected():
    secret = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}
    scan = from_resources([resource(DEPLOYMENT, "shop", {"spec": secret})], "stack.json")
    assert scan.targets == []
    assert scan.not_inspected == ["stack.json: shop (kubernetes:apps/v1:Deployment) inputs.spec",
                                  "stack.json: shop (kubernetes:apps/v1:Deployment) outputs.spec"]
