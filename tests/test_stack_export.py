"""`--from-stack`'s reader on its own: which resources of a `pulumi stack export` it reads, and where it says each
reference was found. (test_cli_check runs the same through the command.)"""

from __future__ import annotations

import json
from xml.etree import ElementTree

from cli_runner import run_cli

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


# -- provider configuration: credentials, never image references ---------------------------------

SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "v1:abc"}


def provider(name: str, type_: str, inputs: dict) -> dict:
    return {"urn": f"urn:pulumi:dev::shop::{type_}::{name}", "type": type_, "custom": True, "id": "0a1b",
            "inputs": inputs, "outputs": inputs}


def test_ciphertext_in_a_provider_config_is_not_named_as_not_inspected():
    # given the default provider `pulumi config set --secret ncloud:secretKey` leaves in state, and a
    # Kubernetes provider whose kubeconfig is a secret, beside a workload with a ciphertext secret
    scan = from_resources([
        provider("default", "pulumi:providers:pulumi-python",
                 {"ncloud:accessKey": "AKPLAINACCESSKEY0000", "ncloud:secretKey": SECRET, "version": "3.139.0"}),
        provider("cluster", "pulumi:providers:kubernetes", {"kubeconfig": SECRET}),
        resource(DEPLOYMENT, "shop", {"spec": SECRET}),
    ], "stack.json")
    # then only the workload's secret is named: a provider's config holds credentials, not image references
    assert scan.targets == []
    assert scan.not_inspected == ["stack.json: shop (kubernetes:apps/v1:Deployment) inputs.spec",
                                  "stack.json: shop (kubernetes:apps/v1:Deployment) outputs.spec"]


def test_check_on_an_export_with_the_providers_secret_key_reports_nothing_hidden(ncp_env, tmp_path):
    # given `pulumi stack export` (no --show-secrets) of a stack configured as the README says: the default
    # provider holds ncloud:secretKey as ciphertext, and a container deploys an immutable NCR image
    path = tmp_path / "stack.json"
    path.write_text(json.dumps({"version": 3, "deployment": {"resources": [
        provider("default", "pulumi:providers:pulumi-python", {"ncloud:accessKey": "AKPLAINACCESSKEY0000",
                                                               "ncloud:secretKey": SECRET}),
        resource("docker:index/container:Container", "web", {"image": "prod.kr.ncr.ntruss.com/team/web:1.2.1"}),
    ]}}))
    reports = {fmt: run_cli("check", "--from-stack", str(path), "-o", fmt)
               for fmt in ("table", "json", "github", "sarif", "junit")}
    # then every format passes the image and names no secret as not inspected (nor advises revealing one)
    assert {fmt: r.returncode for fmt, r in reports.items()} == dict.fromkeys(reports, 0)
    assert not [fmt for fmt, r in reports.items() if "show-secrets" in r.stdout + r.stderr]
    assert "NOT INSPECTED" not in reports["table"].stdout
    assert reports["table"].stdout.splitlines()[-1].endswith("0 could not be checked.")
    assert json.loads(reports["json"].stdout)["not_inspected"] == []
    assert "::warning" not in reports["github"].stdout
    assert json.loads(reports["sarif"].stdout)["runs"][0]["invocations"][0]["toolExecutionNotifications"] == []
    assert ElementTree.fromstring(reports["junit"].stdout).find("testsuite").get("skipped") == "0"
