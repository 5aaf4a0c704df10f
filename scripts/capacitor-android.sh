# Sourced by scripts/android-compile-check.sh and scripts/browser-test.sh: the @capacitor/android
# package the plugin targets, fetched from npm once into $CACHE (never copied into the repository).
#   capacitor_android_version   sets VERSION: the highest @capacitor/android matching the
#                               @capacitor/core range of package.json's devDependencies
#   capacitor_android_unpack    sets SRC: $CACHE/capacitor-android-$VERSION (the tarball's
#                               contents under $SRC/package), npm-packed if not there yet
# Both call the sourcing script's `die` on failure.

capacitor_android_version() {
    local range
    range=$(node -p 'require("./package.json").devDependencies["@capacitor/core"] || ""')
    [[ -n "$range" ]] || die "package.json has no devDependencies[@capacitor/core] to take the Capacitor version from"
    VERSION=$(npm view "@capacitor/android@$range" version --json 2>/dev/null \
        | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);v=[].concat(v);
            const k=x=>x.split(/[.-]/).slice(0,3).map(Number);  // npm lists by publication date: take the highest
            v.sort((a,b)=>{const p=k(a),q=k(b);return p[0]-q[0]||p[1]-q[1]||p[2]-q[2]});console.log(v[v.length-1])})') \
        || die "npm view @capacitor/android@$range failed (no network? the registry is needed once per version)"
    [[ "$VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]] || die "could not resolve @capacitor/android@$range (got '$VERSION')"
    echo "@capacitor/android@$range -> $VERSION"
}

capacitor_android_unpack() {
    SRC="$CACHE/capacitor-android-$VERSION"
    if [[ ! -d "$SRC/package" ]]; then
        mkdir -p "$SRC"
        (cd "$SRC" && npm pack --silent "@capacitor/android@$VERSION" >/dev/null) || die "npm pack @capacitor/android@$VERSION failed"
        tar xzf "$SRC/capacitor-android-$VERSION.tgz" -C "$SRC" || die "could not unpack capacitor-android-$VERSION.tgz"
    fi
}
