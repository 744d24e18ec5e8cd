"""Deploy a Kubernetes Deployment pinned to the digest an NCR tag points at now.

Config (project ncr-k8s-by-digest):
  image            the tag to deploy, "registry/image:tag", e.g. "prod/team/web:1.2.1"
  replicas         pods to run (default 2)
  imagePullSecret  the cluster's docker-registry secret for NCR (default "ncr-pull")
Credentials and place come from ncloud:accessKey, ncloud:secretKey, ncloud:region, ncr:endpoint.

The container runs `<registry>.<kr|sg|jp>.ncr.ntruss.com/<image>@sha256:...`, never the tag itself: if the
tag is moved in NCR, the pods keep running what was reviewed, and the next `pulumi preview` shows the new
digest as a change to the Deployment before anything rolls.
"""

import pulumi
import pulumi_kubernetes as k8s

from ncr_provider import NcrImageTag
from ncr_provider.names import split_tag_id

config = pulumi.Config()
image = config.require("image")
replicas = config.get_int("replicas") or 2
pull_secret = config.get("imagePullSecret") or "ncr-pull"

registry, image_name, tag_name = split_tag_id(image, "image")  # a typo fails here, naming the part
# Read on every preview and up: the digest is known before anything is deployed.
tag = NcrImageTag("image", registry=registry, image_name=image_name, tag=tag_name)
app = image_name.replace("/", "-")
labels = {"app": app}

deployment = k8s.apps.v1.Deployment(
    app,
    metadata={
        "labels": labels,
        # Which tag was resolved, for people reading `kubectl describe`; the pods never use it.
        "annotations": {"ncr.ntruss.com/tag": image, "ncr.ntruss.com/tag-updated": tag.last_updated_at},
    },
    spec={
        "replicas": replicas,
        "selector": {"matchLabels": labels},
        "template": {
            "metadata": {"labels": labels},
            "spec": {
                "containers": [{"name": app, "image": tag.image_ref_by_digest}],
                "imagePullSecrets": [{"name": pull_secret}],
            },
        },
    },
)

pulumi.export("image", tag.image_ref_by_digest)
pulumi.export("digest", tag.digest)
pulumi.export("platforms", tag.platforms.apply(lambda ps: [f"{p['os']}/{p['architecture']}" for p in ps]))
