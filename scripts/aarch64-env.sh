# Sourced by scripts/test-aarch64.sh and scripts/measure-size.sh: installs the aarch64 cross
# toolchain and qemu-user when missing (apt, rustup target) or fails naming what is missing,
# then exports cargo's linker and runner for aarch64-unknown-linux-gnu.
TARGET=aarch64-unknown-linux-gnu
die() { echo "aarch64: FAILED: $*" >&2; exit 1; }

missing=()
command -v aarch64-linux-gnu-gcc >/dev/null || missing+=(gcc-aarch64-linux-gnu)
command -v qemu-aarch64 >/dev/null || missing+=(qemu-user)
[[ -f /usr/aarch64-linux-gnu/lib/libc.so.6 ]] || missing+=(libc6-dev-arm64-cross)
if ((${#missing[@]})); then
    command -v apt-get >/dev/null || die "missing ${missing[*]} and no apt-get to install them"
    echo "installing ${missing[*]}"
    apt-get install -y "${missing[@]}" >/dev/null 2>&1 \
        || { apt-get update >/dev/null && apt-get install -y "${missing[@]}" >/dev/null; } \
        || die "apt-get install ${missing[*]} failed"
fi
command -v rustup >/dev/null || die "rustup is required to add the $TARGET target"
rustup target list --installed | grep -qx "$TARGET" || rustup target add "$TARGET"

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export LIVESHIP_CHILD_RUNNER="$CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar

