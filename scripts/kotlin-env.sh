# Sourced by scripts/bindings-test.sh and scripts/plugin-test.sh (which define `die` and `need`):
# finds or installs the host Kotlin toolchain, then sets KOTLINC (a kotlinc from PATH, else the
# npm package kotlin-compiler installed under $TOOLS) and JNA (Debian's libjna-java jar).
# Installs what is missing or fails naming it; never skips.
ensure_kotlin_toolchain() {
    local tools=${TOOLS:-${LIVESHIP_TOOLS_DIR:-$HOME/.cache/liveship-tools}}
    KOTLINC=$(command -v kotlinc || true)
    if [[ -z "$KOTLINC" ]]; then
        KOTLINC="$tools/node_modules/kotlin-compiler/bin/kotlinc"
        if [[ ! -x "$KOTLINC" ]]; then
            need npm "installs kotlinc (npm package kotlin-compiler)"
            echo "installing kotlinc: npm install --prefix $tools kotlin-compiler"
            npm install --prefix "$tools" kotlin-compiler >/dev/null || die "npm install kotlin-compiler failed"
        fi
        [[ -x "$KOTLINC" ]] || die "kotlinc not found at $KOTLINC after npm install"
    fi
    JNA=/usr/share/java/jna.jar
    if [[ ! -f "$JNA" ]]; then
        need apt-get "installs JNA (Debian package libjna-java)"
        echo "installing JNA: apt-get install -y libjna-java"
        apt-get install -y libjna-java >/dev/null 2>&1 \
            || { apt-get update >/dev/null && apt-get install -y libjna-java >/dev/null; } \
            || die "apt-get install libjna-java failed"
    fi
    [[ -f "$JNA" ]] || die "JNA missing at $JNA"
}
