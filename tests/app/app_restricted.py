"""The Pod Security Standards "restricted" profile, as a check on a rendered pod spec.

Written from https://kubernetes.io/docs/concepts/security/pod-security-standards/
(baseline + restricted, current version). Returns the violations, empty when the spec
complies; the cluster's PodSecurity admission is the real gate, this one runs without a
cluster so that a template change is caught before any apply.
"""
from __future__ import annotations

ALLOWED_VOLUME_TYPES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral",
                        "persistentVolumeClaim", "projected", "secret"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes"}
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}


def violations(pod_spec: dict) -> list[str]:
    found: list[str] = []
    pod_sc = pod_spec.get("securityContext") or {}
    containers = [(kind, c) for kind in ("initContainers", "containers", "ephemeralContainers")
                  for c in pod_spec.get(kind) or []]

    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod_spec.get(field):
            found.append(f"{field} is true")
    for volume in pod_spec.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if "hostPath" in kinds:
            found.append(f"volume {volume['name']} is a hostPath")
        if kinds - ALLOWED_VOLUME_TYPES:
            found.append(f"volume {volume['name']} has a type outside the restricted set: {sorted(kinds)}")
    for sysctl in pod_sc.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            found.append(f"sysctl {sysctl.get('name')} is not in the safe set")
    if (pod_sc.get("seLinuxOptions") or {}).get("type", "") not in SELINUX_TYPES:
        found.append("pod seLinuxOptions.type is not allowed")
    if (pod_sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
        found.append("pod appArmorProfile is Unconfined")
    if pod_sc.get("runAsUser") == 0:
        found.append("pod runAsUser is 0")
    if (pod_sc.get("seccompProfile") or {}).get("type") == "Unconfined":
        found.append("pod seccompProfile is Unconfined")

    for kind, container in containers:
        where = f"{kind}[{container.get('name')}]"
        sc = container.get("securityContext") or {}
        if sc.get("privileged"):
            found.append(f"{where} is privileged")
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where} does not set allowPrivilegeEscalation: false")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []):
            found.append(f"{where} does not drop ALL capabilities")
        if set(caps.get("add") or []) - {"NET_BIND_SERVICE"}:
            found.append(f"{where} adds capabilities {sorted(set(caps['add']) - {'NET_BIND_SERVICE'})}")
        if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
            found.append(f"{where} may run as root (runAsNonRoot not true on the pod or the container)")
        if sc.get("runAsUser") == 0:
            found.append(f"{where} runAsUser is 0")
        seccomp = (sc.get("seccompProfile") or pod_sc.get("seccompProfile") or {}).get("type")
        if seccomp not in ("RuntimeDefault", "Localhost"):
            found.append(f"{where} has seccompProfile {seccomp!r}, not RuntimeDefault or Localhost")
        if (sc.get("appArmorProfile") or {}).get("type") == "Unconfined":
            found.append(f"{where} appArmorProfile is Unconfined")
        if (sc.get("seLinuxOptions") or {}).get("type", "") not in SELINUX_TYPES:
            found.append(f"{where} seLinuxOptions.type is not allowed")
        if sc.get("procMount", "Default") != "Default":
            found.append(f"{where} procMount is {sc['procMount']}")
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                found.append(f"{where} uses hostPort {port['hostPort']}")
    return found
