#!/usr/bin/env bash
# gpufleet testbed: build the CUDA-like test image for one architecture, as a `docker load` tarball.
#
#   build.sh ARCH OUTDIR      ARCH is amd64 or arm64; writes OUTDIR/cuda-sim-ARCH.tar and prints its path as
#                             the last line of stdout
#
# The image is a SIMULATION stand-in for nvidia/cuda:12.4.1-base: Debian's busybox-static and nothing else, the
# environment NVIDIA's images set (NVIDIA_VISIBLE_DEVICES=all, ...), and no nvidia-smi: the toolkit hook mounts
# the host's in, as with the real image. Tagged gpufleet-testbed/cuda-sim:12.4.1-base (and ...-base-ARCH).
# No daemon is needed to build it; the result is cached in OUTDIR by a hash of the inputs.
set -euo pipefail

arch=${1:?usage: build.sh ARCH OUTDIR}
out_dir=${2:?usage: build.sh ARCH OUTDIR}
case $arch in amd64 | arm64) ;; *)
    echo "build.sh: unsupported architecture $arch (amd64, arm64)" >&2
    exit 2
    ;;
esac
here=$(cd "$(dirname "$0")" && pwd)
mirror=${GPUFLEET_DEBIAN_MIRROR:-http://deb.debian.org/debian}
release=${GPUFLEET_CUDA_IMAGE_RELEASE:-bookworm}

mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
digest=$( (cat "$here/build.sh" "$here/assemble.py" && echo "$arch $mirror $release") | sha256sum | cut -d' ' -f1)
tarball=$out_dir/cuda-sim-$arch.tar
stamp=$out_dir/.cuda-sim-$arch.inputs-sha256
if [ -s "$tarball" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$digest" ]; then
    echo "cuda_image: up to date: $tarball" >&2
    echo "$tarball"
    exit 0
fi

work=$(mktemp -d "$out_dir/.build-$arch-XXXXXX")
trap 'rm -rf "$work"' EXIT

# Download busybox-static for ARCH through a private apt state, so the host's apt configuration is untouched.
apt_dir=$work/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/sources.list.d"
echo "deb [arch=$arch] $mirror $release main" >"$apt_dir/sources.list"
apt_options=(
    -o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o "Dir::Etc::sourceparts=$apt_dir/sources.list.d"
    -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o "Dir::State::status=/dev/null"
    -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root"
)
echo "cuda_image: fetching busybox-static:$arch from $mirror $release" >&2
apt-get -q "${apt_options[@]}" update >&2
(cd "$work" && apt-get -q "${apt_options[@]}" download "busybox-static:$arch" >&2)
deb=$(ls "$work"/busybox-static_*_"$arch".deb)

rootfs=$work/rootfs
dpkg-deb -x "$deb" "$rootfs"
python3 "$here/assemble.py" --arch "$arch" --rootfs "$rootfs" --source-deb "$(basename "$deb")" \
    --output "$work/image.tar"
mv "$work/image.tar" "$tarball"
echo "$digest" >"$stamp"
echo "cuda_image: built $tarball" >&2
echo "$tarball"
