// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "appeal",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "appeal-cli", targets: ["appeal-cli"]),
        .library(name: "Appeals", targets: ["Appeals"]),
        .library(name: "Mailer", targets: ["Mailer"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-async-algorithms", from: "1.1.4"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .target(
            name: "Appeals",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "Mailer",
            dependencies: [
                "Appeals",
                "CCurl",
                // Appeals' public API names GRDB types; its system module must be visible here too.
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncAlgorithms", package: "swift-async-algorithms"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The store on PostgreSQL: its schema and `db copy` from the SQLite file.
        .target(
            name: "AppealsPostgres",
            dependencies: [
                "Appeals",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The campaign page, supporters' confirmation and the organizers' dashboard (`appeal-cli serve`).
        .target(
            name: "Web",
            dependencies: [
                "Appeals",
                "Mailer",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("Pages")]
        ),
        .executableTarget(
            name: "appeal-cli",
            dependencies: [
                "Appeals",
                "Mailer",
                "Web",
                "AppealsPostgres",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // Fresh databases, fixtures, the test SMTP servers and Python's email parser, for every test target.
        .target(
            name: "TestSupport",
            dependencies: ["Appeals", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/TestSupport"
        ),
        .testTarget(name: "AppealsTests", dependencies: ["Appeals", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "MailerTests", dependencies: ["Mailer", "AppealsPostgres", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
                                                         .product(name: "PostgresNIO", package: "postgres-nio")]),
        .testTarget(name: "AppealsPostgresTests", dependencies: ["AppealsPostgres", "Appeals", "TestSupport",
                                                                .product(name: "PostgresNIO", package: "postgres-nio")]),
        .testTarget(name: "WebTests", dependencies: ["Web", "Appeals", "AppealsPostgres", "Mailer", "TestSupport",
                                                      .product(name: "PostgresNIO", package: "postgres-nio"),
                                                      .product(name: "HummingbirdTesting", package: "hummingbird"),
                                                      .product(name: "HTTPTypes", package: "swift-http-types"),
                                                      .product(name: "GRDB", package: "GRDB.swift")]),
        // Runs the built executable, as a user would: `swift build` puts it beside the test binary.
        .testTarget(name: "CLITests", dependencies: ["TestSupport"]),
    ]
)
