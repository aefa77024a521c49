// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "BackgroundCopy",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BackgroundCopy", targets: ["BackgroundCopy"]),
        .executable(name: "bgcopy", targets: ["bgcopy"]),
        // What a host's own tests use: the loopback HTTP(S) server with switchable faults
        // (as NIOTestUtils and HummingbirdTesting ship theirs). Never linked into `bgcopy`.
        .library(name: "BackgroundCopyTesting", targets: ["BackgroundCopyTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // The PostgreSQL backend (DESIGN.md, Scale-out): many hosts draining one queue.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
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
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            plugins: ["EmbedSchema"]
        ),
        // The loopback HTTP server with switchable faults, for this package's tests and hosts' own.
        .target(
            name: "BackgroundCopyTesting",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(
            name: "bgcopy",
            dependencies: [
                "BackgroundCopy",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Issues a fixed mix of API calls and prints a JSON ledger: the second process of
        // TwoProcessTests. Test-only, never a product.
        .executableTarget(
            name: "QueueExerciser",
            dependencies: ["BackgroundCopy", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
        // The crash harness: the power-loss simulator (a SQLite VFS shim and a durable-file layer),
        // the workloads and invariants, and the worker process the CrashRecoveryTests drive.
        // Test-only, never products.
        .target(name: "PowerLossSimulator", dependencies: ["CSQLite"]),
        .target(
            name: "CrashHarness",
            dependencies: [
                "BackgroundCopy",
                "CSQLite",
                "BackgroundCopyTesting",
                "PowerLossSimulator",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .executableTarget(name: "CrashWorker", dependencies: ["CrashHarness"]),
        // How the tests share the machine's cores in a parallel `swift test` (both test targets).
        .target(name: "TestScheduling"),
        .testTarget(name: "CrashRecoveryTests", dependencies: ["CrashHarness", "TestScheduling"]),
        .testTarget(
            name: "BackgroundCopyTests",
            dependencies: [
                "BackgroundCopy",
                "BackgroundCopyTesting",
                "CSQLite",
                "TestScheduling",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "InMemoryLogging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// The benchmarks (Benchmarks/), only with ENABLE_BENCHMARKS=1, so plain `swift build` and `swift test`
// never fetch or build package-benchmark. They live in this package, not a nested one, because they
// call the engine's `package`-visible store operations, which another package cannot see.
//   ENABLE_BENCHMARKS=1 swift package --scratch-path Benchmarks/.build benchmark   (or Benchmarks/run.sh)
// The gate reads PackageDescription's `Context.environment`, so the manifest needs no Foundation.
if Context.environment["ENABLE_BENCHMARKS"] == "1" {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]))
    let benchmark = Target.Dependency.product(name: "Benchmark", package: "benchmark")
    package.targets +=
        [
            .target(name: "BenchmarkSupport", dependencies: ["BackgroundCopy", "CSQLite", benchmark], path: "Benchmarks/BenchmarkSupport")
        ]
        + ["QueueOperations", "QueueScaling", "QueueConcurrency"].map { name in
            .executableTarget(
                name: name,
                dependencies: ["BackgroundCopy", "BenchmarkSupport", "CSQLite", benchmark],
                path: "Benchmarks/\(name)",
                plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
            )
        } + [
            // One operation in a loop, for valgrind --tool=callgrind (see Benchmarks/README.md).
            .executableTarget(name: "QueueProfile", dependencies: ["BackgroundCopy", "BenchmarkSupport"], path: "Benchmarks/Tools/QueueProfile"),
            // Claim→complete cycles/s on PostgreSQL with 1, 4 and 16 engines beside raw SKIP LOCKED SQL and
            // SQLite: an executable printing one table, its rows sharing one throwaway cluster.
            .executableTarget(
                name: "FleetClaims",
                dependencies: [
                    "BackgroundCopy", "BackgroundCopyTesting", .product(name: "PostgresNIO", package: "postgres-nio"),
                    .product(name: "Logging", package: "swift-log"),
                ],
                path: "Benchmarks/FleetClaims"
            ),
        ]
}

// Documentation (Sources/BackgroundCopy/Documentation.docc), only with ENABLE_DOCC=1, so plain
// builds never resolve swift-docc-plugin:
//   ENABLE_DOCC=1 swift package generate-documentation --target BackgroundCopy
if Context.environment["ENABLE_DOCC"] == "1" {
    package.dependencies.append(.package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"))
}
