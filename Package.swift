// swift-tools-version:6.0
import PackageDescription

let tools = ["ann-kmeans", "ann-groundtruth", "ann-pack", "ann-query", "ann-eval", "ann-train", "ann-dup"]

let package = Package(
    name: "ann-tools",
    products: tools.map { .executable(name: $0, targets: [$0]) } + [
        .library(name: "ANNKit", targets: ["ANNKit", "ANNFormats"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CCurl", path: "Sources/CCurl", pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]),
        // Bytes, files, remote objects and the stream formats: nothing here computes distances
        // or routes.
        .target(name: "ANNFormats", dependencies: ["CZstd", "CCurl"]),
        .target(name: "ANNKit", dependencies: ["ANNFormats", "CBLAS"]),
        .target(
            name: "ANNCommands",
            dependencies: ["ANNKit", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // What the test targets share: temporary files, the bundled data, encoders written from
        // ann-formats(5), an index edited by hand; the exit status of a library error comes from
        // ANNCommands, which decides it.
        .target(name: "TestSupport", dependencies: ["ANNKit", "ANNCommands"], path: "Tests/TestSupport"),
        // ANNCommands for the exit status of each library error, which the command layer decides.
        .testTarget(name: "ANNKitTests", dependencies: ["ANNKit", "ANNCommands", "TestSupport"]),
        .testTarget(name: "ANNCommandsTests", dependencies: ["ANNCommands", "ANNKit"]),
        .testTarget(name: "CLITests", dependencies: ["ANNKit", "TestSupport"] + tools.map { .target(name: $0) }),
    ] + tools.map { .executableTarget(name: $0, dependencies: ["ANNCommands"]) },
    swiftLanguageModes: [.v6]
)
