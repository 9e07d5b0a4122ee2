#!/bin/sh
# gpufleet testbed: install the SIMULATED GPU (a replaying nvidia-smi) on a test host, or remove it.
#
#   install.sh PROFILE [ROOT]     install /usr/bin/nvidia-smi, /usr/share/gpufleet-sim, the driver's libnvidia-ml
#                                 stub and /dev/nvidia* nodes for PROFILE's GPUs, select PROFILE
#   install.sh --remove [ROOT]    remove them all: the host then looks like one without the NVIDIA driver
#   install.sh --list             print the profile names
#
# ROOT (default /) lets it install into an image tree. The captures come from the fixtures corpus,
# $GPUFLEET_SIM_FIXTURES (default: tests/fixtures/nvidia_smi next to this testbed). Every profile's captures are
# installed, so a test switches profile by rewriting /etc/gpufleet-sim/profile alone.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
# In the repository the corpus is tests/fixtures/nvidia_smi; on a test host the prepare step copies gpu_sim/ and
# fixtures/nvidia_smi/ side by side.
if [ -n "${GPUFLEET_SIM_FIXTURES:-}" ]; then
    FIXTURES=$GPUFLEET_SIM_FIXTURES
elif [ -d "$HERE/../../fixtures/nvidia_smi" ]; then
    FIXTURES=$HERE/../../fixtures/nvidia_smi
else
    FIXTURES=$HERE/../fixtures/nvidia_smi
fi

usage() {
    sed -n '3,6s/^# \{0,1\}//p' "$0" >&2
    exit 2
}

[ $# -ge 1 ] || usage
case $1 in
    --list)
        ls "$HERE/profiles"
        exit 0
        ;;
    --remove)
        root=${2:-/}
        rm -f "$root/usr/bin/nvidia-smi" "$root"/usr/lib/*-linux-gnu/libnvidia-ml.so.* "$root"/dev/nvidia*
        rm -rf "$root/usr/share/gpufleet-sim" "$root/etc/gpufleet-sim"
        echo "gpufleet testbed: simulated GPU removed from $root"
        exit 0
        ;;
    -*) usage ;;
esac

profile=$1
root=${2:-/}
[ -r "$HERE/profiles/$profile" ] || {
    echo "install.sh: unknown profile '$profile'; known: $(cd "$HERE/profiles" && echo *)" >&2
    exit 2
}

data=$root/usr/share/gpufleet-sim
mkdir -p "$data/profiles" "$data/corpus" "$root/usr/bin" "$root/etc/gpufleet-sim"
cp "$HERE/profiles/"* "$data/profiles/"
cp "$HERE/query-gpu-fields" "$HERE/xml-to-csv.awk" "$data/"

# The captures every profile names: the value of each command key (see README.md).
cases=$(awk '$1 ~ /^(table|list|query|query_xml|csv|error)$/ && NF >= 2 { print $2 }' "$HERE/profiles/"* | sort -u)
for case_name in $cases; do
    [ -r "$FIXTURES/$case_name/output.txt" ] || {
        echo "install.sh: capture $FIXTURES/$case_name/output.txt is missing" >&2
        exit 1
    }
    mkdir -p "$data/corpus/$case_name"
    cp "$FIXTURES/$case_name/output.txt" "$data/corpus/$case_name/"
    if [ -r "$FIXTURES/$case_name/meta.yml" ]; then
        cp "$FIXTURES/$case_name/meta.yml" "$data/corpus/$case_name/"
    fi
done

install -m 0755 "$HERE/nvidia-smi" "$root/usr/bin/nvidia-smi"
echo "$profile" >"$root/etc/gpufleet-sim/profile"
chmod -R a+rX "$data" "$root/etc/gpufleet-sim"

# What the driver itself puts on a host, for the profile's GPUs, so that CDI specifications (fake nvidia-ctk) name
# real paths: the versioned libnvidia-ml.so.<driver version> (a stub: a driver upgrade removes the old version's
# file, which is how a stale spec shows) and the device nodes nvidia-modprobe creates (major 195: /dev/nvidiaN,
# /dev/nvidiactl 255; nvidia-uvm's major is dynamic, 510 here). Error profiles (no driver, no GPU) get neither.
# Runtimes that inject the nodes need the test host's device cgroup to allow c 195:* and c 510:*.
lib_dir=$root/usr/lib/$(uname -m)-linux-gnu
rm -f "$lib_dir"/libnvidia-ml.so.* "$root"/dev/nvidia*
gpus=$(GPUFLEET_SIM_DATA=$data GPUFLEET_SIM_PROFILE_FILE=$root/etc/gpufleet-sim/profile \
    sh "$root/usr/bin/nvidia-smi" --query-gpu=index,driver_version --format=csv,noheader 2>/dev/null |
    awk -F', *' '$1 ~ /^[0-9]+$/ && $2 ~ /^[0-9.]+$/ { print $1, $2 }') || gpus=
if [ -n "$gpus" ]; then
    driver_version=$(echo "$gpus" | awk 'NR == 1 { print $2 }')
    mkdir -p "$lib_dir" "$root/dev"
    printf 'gpufleet testbed: SIMULATED libnvidia-ml for driver %s (a stub, not a library)\n' "$driver_version" \
        >"$lib_dir/libnvidia-ml.so.$driver_version"
    nodes="nvidiactl:195:255 nvidia-uvm:510:0 nvidia-uvm-tools:510:1"
    for index in $(echo "$gpus" | awk '{ print $1 }'); do nodes="$nodes nvidia$index:195:$index"; done
    made=0
    for node in $nodes; do
        name=${node%%:*} numbers=${node#*:}
        if mknod -m 0666 "$root/dev/$name" c "${numbers%:*}" "${numbers#*:}" 2>/dev/null; then made=$((made + 1)); fi
    done
    [ "$made" -gt 0 ] || echo "gpufleet testbed: could not create device nodes in $root/dev (mknod refused)" >&2
    echo "gpufleet testbed: simulated driver $driver_version, $made device nodes in $root/dev"
fi
echo "gpufleet testbed: SIMULATED GPU installed in $root, profile $profile"
