// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "BackgroundCopy",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BackgroundCopy", targets: ["BackgroundCopy"]),
        .executable(name: "bgcopy", targets: ["bgcopy"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]
        ),
        .executableTarget(name: "SchemaEmbedder"),
        .plugin(
            name: "EmbedSchema",
            capability: .buildTool(),
            dependencies: ["SchemaEmbedder"]
        ),
        .target(
            name: "BackgroundCopy",
            dependencies: [
                "CSQLite",
                .product(name: "Logging", package: "swift-log"),
            ],
            plugins: ["EmbedSchema"]
        ),
        .executableTarget(
            name: "bgcopy",
            dependencies: [
                "BackgroundCopy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "BackgroundCopyTests",
            dependencies: [
                "BackgroundCopy",
                "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
