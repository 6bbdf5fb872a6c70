"""moto_server plus the EKS APIs that moto 5.2.5 (the newest moto on PyPI) does not serve.

The cloud tier converges the roles against moto_server. moto 5.2.5 implements the EKS control
plane and managed node groups, but not access entries and access policies, Pod Identity
associations, add-ons, version updates, or the cluster fields of authentication and Auto Mode
(accessConfig, computeConfig, storageConfig, kubernetesNetworkConfig.elasticLoadBalancing:
moto drops them). This module adds them to moto's own EKS backend, in the same process, so
that a converge runs every EKS call of the roles against one endpoint with one state (a
cluster deleted by moto takes its access entries with it).

What this is and is not:
- It is this project's test double, not AWS. Every request it serves is validated against
  botocore's EKS service model (botocore.validate, the validator botocore's Stubber uses) and
  so is every response before it is sent: a request or response shape AWS would not accept
  fails the test. The behaviour beyond the shapes (which errors, when) follows the EKS API
  reference and the EKS user guide, and is stricter where noted; it is not taken from a run
  against AWS.
- UpdateClusterConfig is served here entirely: moto 5.2.5 replaces the whole VPC config with the fields an update
  sends, where EKS keeps the others.
- Add-on versions are synthetic (``v0.<minor>.0-test.N``): no real add-on version is claimed.
- Every operation served is appended to the call log (OUI_MOTO_CALL_LOG, JSON lines:
  service, operation, served_by moto|extension, status), from which the tests print which
  calls ran against moto and which against this extension.

Run it as moto_server is run: ``python -m cloud.moto_eks -H 127.0.0.1 -p PORT`` from tests/.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import sys
import threading
import uuid
from typing import Any

from botocore.exceptions import ParamValidationError
from botocore.session import get_session
from botocore.validate import validate_parameters

from moto.core.responses import ActionResult, BaseResponse
from moto.eks import urls as eks_urls
from moto.eks.exceptions import (InvalidParameterException, InvalidRequestException, ResourceInUseException,
                                 ResourceNotFoundException)
from moto.eks.models import EKSBackend
from moto.eks.responses import EKSResponse

_EKS_MODEL = get_session().get_service_model("eks")
_LOG_LOCK = threading.Lock()
# moto's own handlers of the operations this module completes, kept before install() replaces them.
_MOTO: dict[str, Any] = {}

ACCESS_POLICIES = ("AmazonEKSClusterAdminPolicy", "AmazonEKSAdminPolicy", "AmazonEKSEditPolicy", "AmazonEKSViewPolicy",
                   "AmazonEKSAutoNodePolicy", "AmazonEKSAdminViewPolicy")
POLICY_ARN = "arn:aws:eks::aws:cluster-access-policy/{}"
# Add-ons the synthetic catalogue offers, for every Kubernetes minor (1.30 onwards).
ADDONS = ("vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "aws-ebs-csi-driver", "metrics-server")
AUTO_MODE_MANAGED = ("vpc-cni", "kube-proxy", "coredns", "eks-pod-identity-agent", "aws-ebs-csi-driver")
# The operations this module serves (the others go to moto).
SERVED = {
    "CreateAccessEntry", "DescribeAccessEntry", "ListAccessEntries", "UpdateAccessEntry", "DeleteAccessEntry",
    "AssociateAccessPolicy", "DisassociateAccessPolicy", "ListAssociatedAccessPolicies", "ListAccessPolicies",
    "CreatePodIdentityAssociation", "DescribePodIdentityAssociation", "ListPodIdentityAssociations",
    "UpdatePodIdentityAssociation", "DeletePodIdentityAssociation",
    "CreateAddon", "DescribeAddon", "ListAddons", "UpdateAddon", "DeleteAddon", "DescribeAddonVersions",
    "UpdateClusterVersion", "UpdateNodegroupVersion", "UpdateClusterConfig", "AssociateEncryptionConfig",
    "CreateCluster", "DescribeCluster", "TagResource", "UntagResource", "ListTagsForResource",
}
# Of those, the ones moto serves itself and this module completes (the fields moto drops).
COMPLETED = {"CreateCluster", "DescribeCluster", "TagResource", "UntagResource", "ListTagsForResource"}


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def minor(version: str) -> tuple[int, int]:
    major, minor_ = version.split(".")[:2]
    return int(major), int(minor_)


def addon_versions(name: str) -> list[dict[str, Any]]:
    """The synthetic catalogue: per minor 1.30-1.40, two builds; the newer one is the default."""
    versions = []
    for m in range(30, 41):
        for build, default in ((1, False), (2, True)):
            versions.append({"addonVersion": f"v0.{m}.0-test.{build}", "architecture": ["amd64", "arm64"],
                             "compatibilities": [{"clusterVersion": f"1.{m}", "platformVersions": ["*"],
                                                  "defaultVersion": default}],
                             "requiresConfiguration": False, "requiresIamPermissions": name == "aws-ebs-csi-driver"})
    return versions


def compatible(name: str, version: str, cluster_version: str) -> bool:
    return any(c["clusterVersion"] == cluster_version for v in addon_versions(name) if v["addonVersion"] == version
               for c in v["compatibilities"])


def default_version(name: str, cluster_version: str) -> str:
    return next(v["addonVersion"] for v in addon_versions(name) for c in v["compatibilities"]
                if c["clusterVersion"] == cluster_version and c["defaultVersion"])


def state(backend: EKSBackend) -> dict[str, Any]:
    """This module's resources, kept on moto's backend so that moto's reset forgets them too."""
    if not hasattr(backend, "_oui"):
        backend._oui = {"entries": {}, "policies": {}, "associations": {}, "addons": {}, "tags": {}}
    return backend._oui


def not_found(message: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(clusterName=None, nodegroupName=None, fargateProfileName=None, addonName=None,
                                     message=message)


def validated(operation: str, response: dict[str, Any]) -> dict[str, Any]:
    """The response, after checking it against the operation's output shape (as the Stubber does)."""
    shape = _EKS_MODEL.operation_model(operation).output_shape
    if shape is not None:
        validate_parameters(response, shape)
    return response


class Extension:
    """The EKS operations moto lacks, as methods of moto's EKSResponse (installed by install())."""

    # --- helpers -----------------------------------------------------------------------------------

    def _cluster(self, name: str):
        cluster = self.eks_backend.clusters.get(name)
        if cluster is None:
            raise not_found(f"No cluster found for name: {name}.")
        return cluster

    def _st(self) -> dict[str, Any]:
        return state(self.eks_backend)

    def _arn(self, kind: str, *parts: str) -> str:
        return f"arn:aws:eks:{self.region}:{self.current_account}:{kind}/" + "/".join(parts)

    def _iam_role(self, arn: str):
        from moto.iam.models import iam_backends

        try:
            return iam_backends[self.current_account]["global"].get_role_by_arn(arn)
        except Exception:  # noqa: BLE001 - moto raises its own IAMNotFoundException
            raise InvalidParameterException(message=f"Role {arn} does not exist")

    # --- cluster fields moto drops ---------------------------------------------------------------------

    def create_cluster(self):
        access = self._get_param("accessConfig") or {}
        compute = self._get_param("computeConfig")
        storage = self._get_param("storageConfig")
        network = self._get_param("kubernetesNetworkConfig") or {}
        auto = [bool((compute or {}).get("enabled")), bool(((storage or {}).get("blockStorage") or {}).get("enabled")),
                bool((network.get("elasticLoadBalancing") or {}).get("enabled"))]
        if any(auto) and not all(auto):
            # EKS user guide (EKS Auto Mode): compute, block storage and load balancing are enabled together
            raise InvalidParameterException(message="computeConfig, storageConfig.blockStorage and "
                                                    "kubernetesNetworkConfig.elasticLoadBalancing must all be enabled")
        mode = access.get("authenticationMode", "CONFIG_MAP")  # the API default (EKS API reference)
        if all(auto) and mode == "CONFIG_MAP":
            raise InvalidParameterException(message="EKS Auto Mode needs authentication mode API or API_AND_CONFIG_MAP")
        result = _MOTO["create_cluster"](self)
        cluster = self._cluster(self._get_param("name"))
        cluster.access_config = {"authenticationMode": mode,
                                 "bootstrapClusterCreatorAdminPermissions":
                                     access.get("bootstrapClusterCreatorAdminPermissions", True)}
        if all(auto):
            cluster.compute_config = {"enabled": True, "nodePools": compute.get("nodePools", []),
                                      "nodeRoleArn": compute.get("nodeRoleArn")}
            cluster.storage_config = {"blockStorage": {"enabled": True}}
            cluster.kubernetes_network_config = {**cluster.kubernetes_network_config,
                                                 "elasticLoadBalancing": {"enabled": True}}
            # EKS user guide (Create a Node Class): with the built-in node pools, EKS creates the nodes' access entry.
            if compute.get("nodePools") and compute.get("nodeRoleArn"):
                self._put_entry(cluster, compute["nodeRoleArn"], "EC2", [], None, {})
                self._st()["policies"][(cluster.name, compute["nodeRoleArn"])] = {
                    POLICY_ARN.format("AmazonEKSAutoNodePolicy"): {"type": "cluster"}}
        if access.get("bootstrapClusterCreatorAdminPermissions", True) and mode != "CONFIG_MAP":
            creator = self._caller_arn()
            self._put_entry(cluster, creator, "STANDARD", [], None, {})
            self._st()["policies"][(cluster.name, creator)] = {
                POLICY_ARN.format("AmazonEKSClusterAdminPolicy"): {"type": "cluster"}}
        return result

    def _caller_arn(self) -> str:
        from moto.sts.models import sts_backends

        return sts_backends[self.current_account]["global"].get_caller_identity(
            self.get_access_key(), self.region)[1]

    def update_cluster_config(self):
        name = self._get_param("name")
        cluster = self._cluster(name)
        kinds = []
        access = self._get_param("accessConfig")
        if access and access.get("authenticationMode"):
            order = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"]
            have = cluster.access_config.get("authenticationMode", "CONFIG_MAP")
            want = access["authenticationMode"]
            # EKS user guide (access entries): the mode only moves towards API, one way
            if order.index(want) < order.index(have):
                raise InvalidParameterException(message=f"Unsupported authentication mode update from {have} to {want}")
            cluster.access_config = {**cluster.access_config, "authenticationMode": want}
            kinds.append(("AuthenticationMode", want))
        compute = self._get_param("computeConfig")
        if compute is not None:
            storage = self._get_param("storageConfig") or {}
            network = self._get_param("kubernetesNetworkConfig") or {}
            enabled = bool(compute.get("enabled"))
            if bool((storage.get("blockStorage") or {}).get("enabled")) != enabled or \
                    bool((network.get("elasticLoadBalancing") or {}).get("enabled")) != enabled:
                raise InvalidParameterException(message="computeConfig, storageConfig and elasticLoadBalancing "
                                                        "must be updated together")
            cluster.compute_config = {"enabled": enabled, "nodePools": compute.get("nodePools", []),
                                      "nodeRoleArn": compute.get("nodeRoleArn")}
            cluster.storage_config = {"blockStorage": {"enabled": enabled}}
            cluster.kubernetes_network_config = {**cluster.kubernetes_network_config,
                                                 "elasticLoadBalancing": {"enabled": enabled}}
            kinds.append(("ComputeConfig", json.dumps(compute, sort_keys=True)))
        vpc = self._get_param("resourcesVpcConfig")
        if vpc:
            # EKS updates the fields sent and keeps the others; moto 5.2.5 replaces the whole VPC config (losing the
            # endpoint access of an update that sends subnets only), so the merge is done here
            cluster.resources_vpc_config = {**(cluster.resources_vpc_config or {}), **vpc}
            names = {"endpointPrivateAccess": "EndpointPrivateAccess", "endpointPublicAccess": "EndpointPublicAccess",
                     "publicAccessCidrs": "PublicAccessCidrs", "subnetIds": "Subnets", "securityGroupIds": "SecurityGroups"}
            kinds += [(names[k], json.dumps(v)) for k, v in vpc.items() if k in names]
        if self._get_param("logging"):
            cluster.logging = self._get_param("logging")
            kinds.append(("ClusterLogging", json.dumps(self._get_param("logging"), sort_keys=True)))
        update_type = {"AuthenticationMode": "AccessConfigUpdate", "ComputeConfig": "AutoModeUpdate",
                       "EndpointPrivateAccess": "EndpointAccessUpdate", "EndpointPublicAccess": "EndpointAccessUpdate",
                       "Subnets": "VpcConfigUpdate", "SecurityGroups": "VpcConfigUpdate",
                       "ClusterLogging": "LoggingUpdate"}.get(kinds[0][0] if kinds else "", "ConfigUpdate")
        return ActionResult(validated("UpdateClusterConfig", {"update": self._update(update_type, kinds)}))

    def _update(self, kind: str, params: list[tuple[str, str]]) -> dict[str, Any]:
        return {"id": str(uuid.uuid4()), "status": "Successful", "type": kind, "createdAt": now(), "errors": [],
                "params": [{"type": t, "value": v} for t, v in params]}

    def update_cluster_version(self):
        cluster = self._cluster(self._get_param("name"))
        want = self._get_param("version")
        have = cluster.version
        if minor(want) != (minor(have)[0], minor(have)[1] + 1):
            # EKS API reference (UpdateClusterVersion): one minor at a time, never down
            raise InvalidParameterException(message=f"Unsupported Kubernetes minor version update from {have} to {want}")
        too_old = [n for n, ng in cluster.nodegroups.items() if minor(want)[1] - minor(ng.version)[1] > 3]
        if too_old:
            raise InvalidRequestException(message=f"Nodegroups {too_old} would be more than 3 minors behind {want}")
        cluster.version = want
        return ActionResult(validated("UpdateClusterVersion",
                                      {"update": self._update("VersionUpdate", [("Version", want),
                                                                               ("PlatformVersion", "eks.1")])}))

    def associate_encryption_config(self):
        cluster = self._cluster(self._get_param("name"))
        if cluster.encryption_config:
            # EKS API reference (AssociateEncryptionConfig): a cluster's secrets key is set once
            raise InvalidRequestException(message="Encryption is already enabled on the cluster")
        cluster.encryption_config = self._get_param("encryptionConfig")
        return ActionResult(validated("AssociateEncryptionConfig", {"update": self._update(
            "AssociateEncryptionConfig", [("EncryptionConfig", json.dumps(cluster.encryption_config))])}))

    def update_nodegroup_version(self):
        cluster = self._cluster(self._get_param("name"))
        group_name = self._get_param("nodegroupName")
        group = cluster.nodegroups.get(group_name)
        if group is None:
            raise not_found(f"No node group found for name: {group_name}.")
        want = self._get_param("version") or cluster.version
        if minor(want) > minor(cluster.version):
            raise InvalidParameterException(message=f"Nodegroup version {want} is newer than the cluster's "
                                                    f"{cluster.version}")
        group.version = want
        return ActionResult(validated("UpdateNodegroupVersion",
                                      {"update": self._update("VersionUpdate", [("Version", want)])}))

    # --- access entries and access policies ----------------------------------------------------------------

    def _put_entry(self, cluster, principal: str, kind: str, groups: list[str], username: str | None, tags: dict):
        if not re.match(r"^arn:aws[a-z-]*:(iam|sts)::\d{12}:(role|user|assumed-role|root)", principal):
            raise InvalidParameterException(message=f"The specified principalArn is invalid: {principal}")
        if kind != "STANDARD" and groups:
            raise InvalidParameterException(message=f"kubernetesGroups cannot be set for access entries of type {kind}")
        entry = {"clusterName": cluster.name, "principalArn": principal, "kubernetesGroups": groups,
                 "accessEntryArn": self._arn("access-entry", cluster.name, principal.split(":")[-1], str(uuid.uuid4())),
                 "createdAt": now(), "modifiedAt": now(), "tags": dict(tags or {}),
                 "username": username or (f"system:node:{{{{EC2PrivateDNSName}}}}" if kind != "STANDARD"
                                          else principal),
                 "type": kind}
        self._st()["entries"][(cluster.name, principal)] = entry
        return entry

    def _entry(self, cluster_name: str, principal: str) -> dict[str, Any]:
        self._cluster(cluster_name)
        entry = self._st()["entries"].get((cluster_name, principal))
        if entry is None:
            raise not_found(f"The specified principalArn could not be found. You can view your available access "
                            f"entries with 'list-access-entries'.")
        return entry

    def _api_mode(self, cluster) -> None:
        if cluster.access_config.get("authenticationMode", "CONFIG_MAP") == "CONFIG_MAP":
            raise InvalidRequestException(message="The cluster's authentication mode must be set to one of "
                                                  "[API, API_AND_CONFIG_MAP] to perform this operation.")

    def create_access_entry(self):
        cluster = self._cluster(self._get_param("name"))
        self._api_mode(cluster)
        principal = self._get_param("principalArn")
        if (cluster.name, principal) in self._st()["entries"]:
            raise ResourceInUseException(clusterName=cluster.name, nodegroupName=None, fargateProfileName=None,
                                         addonName=None, message="The specified access entry resource is already in use "
                                                                 "on this cluster.")
        entry = self._put_entry(cluster, principal, self._get_param("type") or "STANDARD",
                                self._get_param("kubernetesGroups") or [], self._get_param("username"),
                                self._get_param("tags") or {})
        return ActionResult(validated("CreateAccessEntry", {"accessEntry": entry}))

    def describe_access_entry(self):
        entry = self._entry(self._get_param("name"), self._get_param("principalArn"))
        return ActionResult(validated("DescribeAccessEntry", {"accessEntry": entry}))

    def list_access_entries(self):
        name = self._get_param("name")
        self._cluster(name)
        policy = self._get_param("associatedPolicyArn")
        found = [p for (c, p) in self._st()["entries"] if c == name
                 and (not policy or policy in self._st()["policies"].get((c, p), {}))]
        return ActionResult(validated("ListAccessEntries", {"accessEntries": sorted(found)}))

    def update_access_entry(self):
        entry = self._entry(self._get_param("name"), self._get_param("principalArn"))
        groups = self._get_param("kubernetesGroups")
        if groups is not None:
            if entry["type"] != "STANDARD" and groups:
                raise InvalidParameterException(message="kubernetesGroups can only be set on STANDARD access entries")
            entry["kubernetesGroups"] = groups
        if self._get_param("username"):
            entry["username"] = self._get_param("username")
        entry["modifiedAt"] = now()
        return ActionResult(validated("UpdateAccessEntry", {"accessEntry": entry}))

    def delete_access_entry(self):
        name, principal = self._get_param("name"), self._get_param("principalArn")
        self._entry(name, principal)
        del self._st()["entries"][(name, principal)]
        self._st()["policies"].pop((name, principal), None)
        return ActionResult(validated("DeleteAccessEntry", {}))

    def associate_access_policy(self):
        name, principal = self._get_param("name"), self._get_param("principalArn")
        entry = self._entry(name, principal)
        policy = self._get_param("policyArn")
        if policy not in [POLICY_ARN.format(p) for p in ACCESS_POLICIES]:
            raise InvalidParameterException(message=f"The specified policyArn is invalid: {policy}")
        scope = self._get_param("accessScope") or {}
        if scope.get("type") == "namespace" and not scope.get("namespaces"):
            raise InvalidParameterException(message="A namespace access scope needs namespaces")
        if entry["type"] != "STANDARD" and policy != POLICY_ARN.format("AmazonEKSAutoNodePolicy"):
            raise InvalidParameterException(message=f"{policy} cannot be associated with a {entry['type']} entry")
        policies = self._st()["policies"].setdefault((name, principal), {})
        # EKS API reference (AssociateAccessPolicy): associating again replaces the scope
        policies[policy] = {k: v for k, v in {"type": scope.get("type"), "namespaces": scope.get("namespaces")}.items()
                            if v}
        return ActionResult(validated("AssociateAccessPolicy", {
            "clusterName": name, "principalArn": principal,
            "associatedAccessPolicy": {"policyArn": policy, "accessScope": policies[policy], "associatedAt": now(),
                                       "modifiedAt": now()}}))

    def disassociate_access_policy(self):
        name, principal = self._get_param("name"), self._get_param("principalArn")
        self._entry(name, principal)
        policies = self._st()["policies"].get((name, principal), {})
        if self._get_param("policyArn") not in policies:
            raise not_found("The specified policy is not associated with this principal.")
        del policies[self._get_param("policyArn")]
        return ActionResult(validated("DisassociateAccessPolicy", {}))

    def list_associated_access_policies(self):
        name, principal = self._get_param("name"), self._get_param("principalArn")
        self._entry(name, principal)
        policies = self._st()["policies"].get((name, principal), {})
        return ActionResult(validated("ListAssociatedAccessPolicies", {
            "clusterName": name, "principalArn": principal,
            "associatedAccessPolicies": [{"policyArn": arn, "accessScope": scope, "associatedAt": now(),
                                          "modifiedAt": now()} for arn, scope in sorted(policies.items())]}))

    def list_access_policies(self):
        return ActionResult(validated("ListAccessPolicies", {
            "accessPolicies": [{"name": p, "arn": POLICY_ARN.format(p)} for p in ACCESS_POLICIES]}))

    # --- Pod Identity associations -------------------------------------------------------------------------

    def _association(self, cluster_name: str, association_id: str) -> dict[str, Any]:
        self._cluster(cluster_name)
        found = self._st()["associations"].get((cluster_name, association_id))
        if found is None:
            raise not_found(f"Association {association_id} not found")
        return found

    def _check_pod_role(self, arn: str) -> None:
        """The role must exist and trust pods.eks.amazonaws.com for sts:AssumeRole and sts:TagSession.

        The EKS user guide requires that trust; refusing a role without it is this extension's
        check (stricter than what the API is known to refuse), so a role trusted wrongly fails here.
        """
        role = self._iam_role(arn)
        doc = role.assume_role_policy_document
        doc = json.loads(doc) if isinstance(doc, str) else doc
        for statement in doc.get("Statement", []):
            principal = (statement.get("Principal") or {}).get("Service")
            services = [principal] if isinstance(principal, str) else principal or []
            actions = statement.get("Action")
            actions = [actions] if isinstance(actions, str) else actions or []
            if statement.get("Effect") == "Allow" and "pods.eks.amazonaws.com" in services \
                    and {"sts:AssumeRole", "sts:TagSession"} <= set(actions):
                return
        raise InvalidParameterException(message=f"Role {arn} does not trust pods.eks.amazonaws.com with "
                                                "sts:AssumeRole and sts:TagSession")

    def create_pod_identity_association(self):
        cluster = self._cluster(self._get_param("name"))
        namespace, account = self._get_param("namespace"), self._get_param("serviceAccount")
        if any(c == cluster.name and a["namespace"] == namespace and a["serviceAccount"] == account
               for (c, _), a in self._st()["associations"].items()):
            raise ResourceInUseException(clusterName=cluster.name, nodegroupName=None, fargateProfileName=None,
                                         addonName=None, message="Association already exists")
        self._check_pod_role(self._get_param("roleArn"))
        association_id = "a-" + uuid.uuid4().hex[:17]
        association = {"clusterName": cluster.name, "namespace": namespace, "serviceAccount": account,
                       "roleArn": self._get_param("roleArn"),
                       "associationArn": self._arn("podidentityassociation", cluster.name, association_id),
                       "associationId": association_id, "tags": self._get_param("tags") or {},
                       "createdAt": now(), "modifiedAt": now(), "disableSessionTags": False}
        self._st()["associations"][(cluster.name, association_id)] = association
        return ActionResult(validated("CreatePodIdentityAssociation", {"association": association}))

    def list_pod_identity_associations(self):
        name = self._get_param("name")
        self._cluster(name)
        namespace, account = self._get_param("namespace"), self._get_param("serviceAccount")
        found = [{k: a[k] for k in ("clusterName", "namespace", "serviceAccount", "associationArn", "associationId")}
                 for (c, _), a in sorted(self._st()["associations"].items()) if c == name
                 and (not namespace or a["namespace"] == namespace) and (not account or a["serviceAccount"] == account)]
        return ActionResult(validated("ListPodIdentityAssociations", {"associations": found}))

    def describe_pod_identity_association(self):
        association = self._association(self._get_param("name"), self._get_param("associationId"))
        return ActionResult(validated("DescribePodIdentityAssociation", {"association": association}))

    def update_pod_identity_association(self):
        association = self._association(self._get_param("name"), self._get_param("associationId"))
        if self._get_param("roleArn"):
            self._check_pod_role(self._get_param("roleArn"))
            association["roleArn"] = self._get_param("roleArn")
        association["modifiedAt"] = now()
        return ActionResult(validated("UpdatePodIdentityAssociation", {"association": association}))

    def delete_pod_identity_association(self):
        name, association_id = self._get_param("name"), self._get_param("associationId")
        association = self._association(name, association_id)
        del self._st()["associations"][(name, association_id)]
        return ActionResult(validated("DeletePodIdentityAssociation", {"association": association}))

    # --- add-ons -------------------------------------------------------------------------------------------------

    def _addon(self, cluster_name: str, name: str) -> dict[str, Any]:
        self._cluster(cluster_name)
        found = self._st()["addons"].get((cluster_name, name))
        if found is None:
            raise not_found(f"No addon: {name} found in cluster: {cluster_name}")
        return found

    def _check_addon(self, cluster, name: str, version: str, configuration: str | None) -> None:
        if name not in ADDONS:
            raise InvalidParameterException(message=f"Addon {name} specified is not supported")
        if not compatible(name, version, cluster.version):
            raise InvalidParameterException(message=f"Addon version {version} of {name} is not supported for "
                                                    f"Kubernetes {cluster.version}")
        if configuration:
            try:
                json.loads(configuration)
            except ValueError:
                raise InvalidParameterException(message="ConfigurationValue provided in request is not supported: "
                                                        "Json schema validation failed")
        if (getattr(cluster, "compute_config", None) or {}).get("enabled") and name in AUTO_MODE_MANAGED:
            # stricter than EKS, which accepts it: an Auto Mode cluster runs these as managed components
            raise InvalidRequestException(message=f"{name} is part of EKS Auto Mode on this cluster")

    def create_addon(self):
        cluster = self._cluster(self._get_param("name"))
        name = self._get_param("addonName")
        if (cluster.name, name) in self._st()["addons"]:
            raise ResourceInUseException(clusterName=cluster.name, nodegroupName=None, fargateProfileName=None,
                                         addonName=name, message=f"Addon already exists with name: {name}")
        version = self._get_param("addonVersion") or default_version(name, cluster.version)
        self._check_addon(cluster, name, version, self._get_param("configurationValues"))
        for association in self._get_param("podIdentityAssociations") or []:
            self._check_pod_role(association["roleArn"])
        addon = {"addonName": name, "clusterName": cluster.name, "status": "ACTIVE", "addonVersion": version,
                 "health": {"issues": []}, "addonArn": self._arn("addon", cluster.name, name, str(uuid.uuid4())),
                 "createdAt": now(), "modifiedAt": now(), "tags": self._get_param("tags") or {},
                 "configurationValues": self._get_param("configurationValues") or ""}
        if self._get_param("serviceAccountRoleArn"):
            addon["serviceAccountRoleArn"] = self._get_param("serviceAccountRoleArn")
        self._st()["addons"][(cluster.name, name)] = addon
        return ActionResult(validated("CreateAddon", {"addon": addon}))

    def describe_addon(self):
        addon = self._addon(self._get_param("name"), self._get_param("addonName"))
        return ActionResult(validated("DescribeAddon", {"addon": addon}))

    def list_addons(self):
        name = self._get_param("name")
        self._cluster(name)
        return ActionResult(validated("ListAddons", {"addons": sorted(a for c, a in self._st()["addons"] if c == name)}))

    def update_addon(self):
        cluster = self._cluster(self._get_param("name"))
        addon = self._addon(cluster.name, self._get_param("addonName"))
        version = self._get_param("addonVersion") or addon["addonVersion"]
        configuration = self._get_param("configurationValues")
        self._check_addon(cluster, addon["addonName"], version, configuration)
        params = []
        if version != addon["addonVersion"]:
            params.append(("AddonVersion", version))
        addon["addonVersion"] = version
        if configuration is not None:
            addon["configurationValues"] = configuration
            params.append(("ConfigurationValues", configuration))
        if self._get_param("serviceAccountRoleArn") is not None:
            addon["serviceAccountRoleArn"] = self._get_param("serviceAccountRoleArn")
        addon["modifiedAt"] = now()
        return ActionResult(validated("UpdateAddon", {"update": self._update("AddonUpdate", params)}))

    def delete_addon(self):
        name, addon_name = self._get_param("name"), self._get_param("addonName")
        addon = self._addon(name, addon_name)
        del self._st()["addons"][(name, addon_name)]
        return ActionResult(validated("DeleteAddon", {"addon": {**addon, "status": "DELETING"}}))

    def describe_addon_versions(self):
        wanted_version = self._get_param("kubernetesVersion")
        names = [self._get_param("addonName")] if self._get_param("addonName") else list(ADDONS)
        addons = []
        for name in names:
            if name not in ADDONS:
                continue
            versions = [v for v in addon_versions(name) if not wanted_version
                        or any(c["clusterVersion"] == wanted_version for c in v["compatibilities"])]
            addons.append({"addonName": name, "type": "networking" if name in ("vpc-cni", "kube-proxy", "coredns")
                           else "other", "addonVersions": list(reversed(versions)), "owner": "aws"})
        return ActionResult(validated("DescribeAddonVersions", {"addons": addons}))

    # --- tags of this module's resources; cluster and node group tags stay moto's ------------------------------

    def _tagged(self, arn: str) -> dict[str, Any] | None:
        st = self._st()
        for collection in (st["entries"], st["associations"], st["addons"]):
            for item in collection.values():
                if arn in (item.get("accessEntryArn"), item.get("associationArn"), item.get("addonArn")):
                    return item
        return None

    def tag_resource(self):
        item = self._tagged(self._get_param("resourceArn"))
        if item is None:
            return _MOTO["tag_resource"](self)
        item["tags"].update(self._get_param("tags") or {})
        return ActionResult(validated("TagResource", {}))

    def untag_resource(self):
        item = self._tagged(self._get_param("resourceArn"))
        if item is None:
            return _MOTO["untag_resource"](self)
        keys = self._get_param("tagKeys") or []
        for key in [keys] if isinstance(keys, str) else keys:
            item["tags"].pop(key, None)
        return ActionResult(validated("UntagResource", {}))

    def list_tags_for_resource(self):
        item = self._tagged(self._get_param("resourceArn"))
        if item is None:
            return _MOTO["list_tags_for_resource"](self)
        return ActionResult(validated("ListTagsForResource", {"tags": item["tags"]}))


def _delete_cluster(original):
    """Deleting a cluster deletes its access entries, associations and add-ons (as EKS does)."""
    def delete_cluster(self, name):
        result = original(self, name)
        st = state(self)
        for collection in ("entries", "associations", "addons", "policies"):
            for key in [k for k in st[collection] if k[0] == name]:
                del st[collection][key]
        return result
    return delete_cluster


def _validate_request(response: BaseResponse, operation: str) -> None:
    """The request this module serves, parsed and checked against the operation's input shape."""
    response.parse_parameters(response.normalized_request)
    params = {k: v for k, v in {**response.params, **response.uri_match}.items() if v is not None}
    shape = _EKS_MODEL.operation_model(operation).input_shape
    # URI members are named after their location (clusterName in the model, {name} in the path)
    for member_name, member in shape.members.items():
        location_name = member.serialization.get("name")
        if location_name and location_name in params and member_name not in params:
            params[member_name] = params.pop(location_name)
    params = {k: v for k, v in params.items() if k in shape.members}
    validate_parameters(params, shape)


def _logging_call_action(original):
    def call_action(self):
        action = self._get_action() or "?"
        service = self.service_name
        served_by = "moto"
        if service == "eks" and action in SERVED:
            served_by = "moto+extension" if action in COMPLETED else "extension"
            try:
                _validate_request(self, action)
            except ParamValidationError as exc:
                body = json.dumps({"message": f"request does not match botocore's model: {exc}"})
                _log(service, action, served_by, 400)
                return 400, {"x-amzn-ErrorType": "ValidationException"}, body
        result = original(self)
        status = result[0] if isinstance(result, tuple) else 200
        _log(service, action, served_by, status)
        return result
    return call_action


def _log(service: str, action: str, served_by: str, status: int) -> None:
    path = os.environ.get("OUI_MOTO_CALL_LOG")
    if not path:
        return
    with _LOG_LOCK, open(path, "a", encoding="utf-8") as log:
        log.write(json.dumps({"service": service, "operation": action, "served_by": served_by,
                              "status": int(status)}) + "\n")


def install() -> None:
    for name, value in vars(Extension).items():
        if callable(value) and not name.startswith("__"):
            if hasattr(EKSResponse, name):
                _MOTO[name] = getattr(EKSResponse, name)
            setattr(EKSResponse, name, value)
    EKSBackend.delete_cluster = _delete_cluster(EKSBackend.delete_cluster)
    BaseResponse.call_action = _logging_call_action(BaseResponse.call_action)
    # moto routes by the URL to EKSResponse.dispatch, then to the operation by botocore's model:
    # these rules only have to reach dispatch.
    eks_urls.url_paths.update({
        "{0}/clusters/(?P<name>[^/]+)/(?P<rest>.+)$": eks_urls.response.dispatch,
        "{0}/addons/supported-versions$": eks_urls.response.dispatch,
        "{0}/access-policies$": eks_urls.response.dispatch,
    })


def main(argv: list[str] | None = None) -> None:
    install()
    from moto.server import main as moto_main

    moto_main(argv if argv is not None else sys.argv[1:])


if __name__ == "__main__":
    main()
