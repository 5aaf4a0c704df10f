// swift-tools-version: 5.9
// The Liveship Capacitor plugin for Swift Package Manager (Capacitor 6+). The Rust core comes as
// ios/Liveship.xcframework (static libraries for device and simulator with the LiveshipFFI
// module), built by scripts/build-ios.sh, which also writes the generated Swift bindings into
// ios/Sources/LiveshipPlugin/Generated/. Both are generated, never committed; the npm package
// ships them.
//
// Apps import the target's module: `import LiveshipPlugin` (CocoaPods: `import LiveshipCapacitor`,
// the pod's name). The generated bindings are compiled into that target.
import PackageDescription

let package = Package(
    name: "LiveshipCapacitor",
    platforms: [.iOS(.v15)], // Capacitor 8 requires iOS 15
    products: [
        .library(name: "LiveshipCapacitor", targets: ["LiveshipPlugin"])
    ],
    dependencies: [
        .package(url: "https://github.com/ionic-team/capacitor-swift-pm.git", "7.0.0"..<"9.0.0")
    ],
    targets: [
        .binaryTarget(name: "Liveship", path: "ios/Liveship.xcframework"),
        .target(
            name: "LiveshipPlugin",
            dependencies: [
                .product(name: "Capacitor", package: "capacitor-swift-pm"),
                .product(name: "Cordova", package: "capacitor-swift-pm"),
                "Liveship",
            ],
            path: "ios/Sources/LiveshipPlugin",
            // rustls-platform-verifier (the core's TLS trust) calls SecTrust; the Rust static
            // library carries no auto-link entries.
            linkerSettings: [.linkedFramework("Security")]
        ),
    ]
)
