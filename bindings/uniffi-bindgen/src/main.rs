//! `uniffi-bindgen`: generates the Kotlin, Swift and Python bindings of the built `liveship`
//! library in library mode (`generate --library target/debug/libliveship.so`). Bindings are
//! generated at build time and never committed; see `docs/BUILD.md`.

fn main() {
    uniffi::uniffi_bindgen_main()
}
