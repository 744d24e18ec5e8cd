"""The NCR policy pack: serves the Analyzer that `pulumi preview --policy-pack examples/policy-pack` talks to."""

from ncr_provider.policy import policy_pack

policy_pack("ncr-policies")
