// swift-tools-version:6.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// One executable per service. Each has the same shape: an entry point, `Handlers/`,
/// `Domain/`, `Store/` and `Migrations/` (copied as a resource and applied at start-up).
func service(_ product: String, path: String, extra: [Target.Dependency] = [], resources: [Resource] = []) -> Target {
    .executableTarget(
        name: path,
        dependencies: ["ServiceKit", "Contracts", "Messaging", "Persistence"] + extra,
        path: "Services/\(path)",
        resources: [.copy("Migrations")] + resources,
        swiftSettings: swiftSettings
    )
}

let package = Package(
    name: "Convene",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "gateway", targets: ["Gateway"]),
        .executable(name: "registration", targets: ["Registration"]),
        .executable(name: "payment", targets: ["Payment"]),
        .executable(name: "scheduling", targets: ["Scheduling"]),
        .executable(name: "platform-bridge", targets: ["PlatformBridge"]),
        .executable(name: "notification", targets: ["Notification"]),
        .executable(name: "archive", targets: ["Archive"]),
        .executable(name: "convene-bench", targets: ["Bench"]),
        .executable(name: "convene-admin", targets: ["Admin"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        // 3.x or 4.x: jwt-kit 5.7+ needs swift-crypto 4.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.0.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/weichsel/ZIPFoundation.git", from: "0.9.20"),
        // The gateway's file uploads (multipart/form-data).
        .package(url: "https://github.com/vapor/multipart-kit.git", from: "4.7.1"),
        // Tests only: OpenAPITests reads docs/openapi.yaml.
        .package(url: "https://github.com/jpsim/Yams.git", "5.0.1"..<"7.0.0"),
    ],
    targets: [
        // C libraries, each behind a shim header that hides header-path differences and
        // wraps the variadic functions Swift cannot call.
        .systemLibrary(name: "CRabbitMQ", path: "Shared/CRabbitMQ", pkgConfig: "librabbitmq",
                       providers: [.apt(["librabbitmq-dev"]), .brew(["rabbitmq-c"])]),
        .systemLibrary(name: "CLibPQ", path: "Shared/CLibPQ", pkgConfig: "libpq",
                       providers: [.apt(["libpq-dev"]), .brew(["libpq"])]),
        .systemLibrary(name: "CCurl", path: "Shared/CCurl", pkgConfig: "libcurl",
                       providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]),

        .target(name: "Contracts", path: "Shared/Contracts", swiftSettings: swiftSettings),
        .target(
            name: "Messaging",
            dependencies: [
                "CRabbitMQ", "Contracts", "ThreadExecutor",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Messaging", swiftSettings: swiftSettings
        ),
        .target(
            name: "Persistence",
            dependencies: [
                "CLibPQ", "Contracts", "Messaging", "ThreadExecutor",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/Persistence", swiftSettings: swiftSettings
        ),
        .target(
            name: "HTTPClient",
            dependencies: ["CCurl", "ThreadExecutor", .product(name: "Logging", package: "swift-log")],
            path: "Shared/HTTPClient", swiftSettings: swiftSettings
        ),
        .target(name: "ThreadExecutor", path: "Shared/ThreadExecutor", swiftSettings: swiftSettings),
        .target(name: "Secrets", dependencies: [.product(name: "Crypto", package: "swift-crypto")],
                path: "Shared/Secrets", swiftSettings: swiftSettings),
        .target(
            name: "ServiceKit",
            dependencies: [
                "Contracts", "Messaging", "Persistence",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/ServiceKit", swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "Gateway",
            dependencies: ["ServiceKit", "Contracts", "Messaging", "Persistence",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HTTPTypes", package: "swift-http-types"),
                           .product(name: "JWTKit", package: "jwt-kit"),
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                           .product(name: "MultipartKit", package: "multipart-kit"),
                           .product(name: "NIOPosix", package: "swift-nio"),
                           "Secrets"],
            path: "Services/Gateway",
            resources: [.copy("Migrations")],
            swiftSettings: swiftSettings
        ),
        service("registration", path: "Registration", extra: [.product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        service("payment", path: "Payment", extra: [
            "HTTPClient", "Secrets", .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "_CryptoExtras", package: "swift-crypto"),
        ]),
        service("scheduling", path: "Scheduling"),
        service("platform-bridge", path: "PlatformBridge", extra: [
            "HTTPClient", "Secrets", .product(name: "Crypto", package: "swift-crypto"),
        ]),
        service("notification", path: "Notification", extra: [
            "HTTPClient", "Secrets", .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Mustache", package: "swift-mustache"),
        ], resources: [.copy("Templates"), .copy("Rules")]),
        service("archive", path: "Archive"),

        .executableTarget(
            name: "Admin",
            dependencies: ["Messaging", "Contracts",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")],
            path: "Services/Admin", swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Bench",
            dependencies: ["Messaging", "Persistence", "Contracts", "CRabbitMQ", "HTTPClient",
                           .product(name: "Crypto", package: "swift-crypto"),
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Logging", package: "swift-log")],
            path: "Tests/Bench", swiftSettings: swiftSettings
        ),

        .testTarget(name: "ContractsTests", dependencies: ["Contracts"], swiftSettings: swiftSettings),
        .testTarget(name: "GatewayTests", dependencies: ["Gateway", "Contracts", "Messaging", "HTTPClient", "TestSupport", "Secrets",
                                                       .product(name: "JWTKit", package: "jwt-kit"),
                                                       .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                                                       .product(name: "Yams", package: "Yams")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "NotificationTests", dependencies: ["Notification", "HTTPClient", "Secrets", "ServiceKit", "TestSupport", "ThreadExecutor"], swiftSettings: swiftSettings),
        .testTarget(name: "RegistrationTests", dependencies: ["Registration", "Contracts",
                                                            .product(name: "ZIPFoundation", package: "ZIPFoundation")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "PaymentTests", dependencies: ["Payment", "Contracts", "HTTPClient", "Persistence", "Messaging",
                                                       "TestSupport", "ServiceKit",
                                                       .product(name: "Crypto", package: "swift-crypto"),
                                                       .product(name: "_CryptoExtras", package: "swift-crypto")],
                    swiftSettings: swiftSettings),
        .testTarget(name: "SchedulingTests", dependencies: ["Scheduling", "Contracts", "Messaging", "Persistence", "ServiceKit",
                                                          "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "PlatformBridgeTests", dependencies: ["PlatformBridge", "Contracts", "HTTPClient", "Persistence",
                                                              "Messaging", "Secrets", "ServiceKit", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "SecretsTests", dependencies: ["Secrets"], swiftSettings: swiftSettings),
        .testTarget(name: "ThreadExecutorTests", dependencies: ["ThreadExecutor"], swiftSettings: swiftSettings),
        .testTarget(name: "MessagingTests", dependencies: ["Messaging", "Persistence", "Contracts", "ServiceKit", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "PersistenceTests", dependencies: ["Persistence", "Contracts", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "ServiceKitTests", dependencies: ["ServiceKit"], swiftSettings: swiftSettings),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "StackTests", dependencies: ["HTTPClient", "Contracts", "Messaging", "TestSupport"], swiftSettings: swiftSettings),
        .target(name: "TestSupport", dependencies: ["Messaging", "Persistence", "Contracts", "ThreadExecutor", "HTTPClient",
                                                    .product(name: "_CryptoExtras", package: "swift-crypto"),
                                                    .product(name: "Logging", package: "swift-log")],
                path: "Tests/TestSupport", swiftSettings: swiftSettings),
    ],
    swiftLanguageModes: [.v6]
)
