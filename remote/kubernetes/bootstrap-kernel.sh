#!/bin/bash
# The kernel image's CMD (under dumb-init): start `pyo3-kernel launch` from the
# environment that gateway_provisioners' kubernetes-provisioner gives the kernel pod.
#
# The pod is made by the kernelspec's scripts/launch_kubernetes.py, on the server's
# side: it renders scripts/kernel-pod.yaml.j2 (no `command:`, so this image's
# ENTRYPOINT and CMD run) and then copies its *whole* environment into the
# container's env: the server's own environment, plus
#   KERNEL_ID, PORT_RANGE, RESPONSE_ADDRESS, PUBLIC_KEY  (from the kernelspec's argv)
#   TRANSPORT_ENCRYPTION  (auto|required, only when the server wants CurveZMQ keys)
#   KERNEL_* of the request (KERNEL_USERNAME, KERNEL_NAMESPACE, KERNEL_CLASS_NAME...).
# The fallbacks are those of gateway_provisioners' bootstrap-kernel.sh: EG_* are the
# names Enterprise Gateway used.
#
# Extra arguments ("$@") are passed on to `pyo3-kernel launch`, which hands what it
# does not know to IPython (e.g. --InteractiveShell.colors=nocolor).
set -euo pipefail

kernel_id=${KERNEL_ID:-}
port_range=${PORT_RANGE:-${EG_PORT_RANGE:-0..0}}
response_address=${RESPONSE_ADDRESS:-${EG_RESPONSE_ADDRESS:-}}
public_key=${PUBLIC_KEY:-${EG_PUBLIC_KEY:-}}
transport_encryption=${TRANSPORT_ENCRYPTION:-}
# The kernel's sockets and its comm port must be reachable on the pod's IP (the
# server connects to the pod's address, whatever the connection info says).
ip=${KERNEL_IP:-0.0.0.0}

missing=()
[ -n "$kernel_id" ] || missing+=(KERNEL_ID)
[ -n "$response_address" ] || missing+=(RESPONSE_ADDRESS)
[ -n "$public_key" ] || missing+=(PUBLIC_KEY)
if [ "${#missing[@]}" -gt 0 ]; then
    echo "$0: ${missing[*]} not set: this image is started by a Jupyter server's" \
        "kubernetes-provisioner, which sets them in the kernel pod" >&2
    exit 1
fi

# pyo3-kernel has one kernel class; the generic kernelspec names ipykernel's.
class=${KERNEL_CLASS_NAME:-ipykernel.ipkernel.IPythonKernel}
if [ "$class" != ipykernel.ipkernel.IPythonKernel ]; then
    echo "$0: KERNEL_CLASS_NAME=$class ignored: pyo3-kernel runs its own kernel class" >&2
fi

# What of the server's environment describes the server's machine, not this container:
# the pid of the server (JPY_PARENT_PID: no such process here), its virtualenv and
# Python home (which would send this image's Python to paths that do not exist).
unset JPY_PARENT_PID VIRTUAL_ENV PYTHONHOME
# The server's PATH, HOME: keep them where they work here, else the image's.
case ":${PATH:-}:" in
    *:/usr/local/bin:*) ;;
    *) export PATH="${PATH:+$PATH:}/usr/local/bin" ;;
esac
if [ ! -d "${HOME:-}" ] || [ ! -w "${HOME:-}" ]; then
    export HOME=/home/jovyan
fi

args=(
    launch
    --kernel-id "$kernel_id"
    --port-range "$port_range"
    --response-address "$response_address"
    --public-key "$public_key"
    --ip "$ip"
)
if [ -n "$transport_encryption" ]; then
    args+=(--transport-encryption "$transport_encryption")
fi

# One line for `kubectl logs` (the public key is public, but long: left out).
echo "$0: pyo3-kernel launch: kernel $kernel_id, ports $port_range," \
    "response address $response_address, ip $ip," \
    "transport encryption ${transport_encryption:-not requested}" >&2
exec pyo3-kernel "${args[@]}" "$@"
