// swift-tools-version: 6.1
import PackageDescription

// Heavy server packages (NIO, crypto, GRDB, Hummingbird…) stay out of Jinja,
// BrineCore, BrineModules and BrineState so that `brine call --local` and its
// tests build in a minute or two (see DESIGN.md, "Build cost").
let package = Package(
    name: "brine",
    products: [
        .executable(name: "brine", targets: ["brine"]),
        .executable(name: "brine-full", targets: ["brine-full"]),
        .executable(name: "brine-minion", targets: ["brine-minion"]),
        .library(name: "Jinja", targets: ["Jinja"]),
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        // The master's HTTP port. No default traits: swift-configuration and
        // full Foundation support are not needed, and cost build time.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-log", from: "1.14.0"),
        // TLS for the HTTP port and https:// checks (Hummingbird's TLS uses it too).
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.2"),
        // Several masters as one (`cluster_database`): keys, jobs and returns in PostgreSQL.
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .target(name: "Jinja"),
        .target(
            name: "BrineCore",
            dependencies: [
                "CBrineShims",
                // For libyaml (its CYaml module): YAML.decode builds values from its events.
                .product(name: "Yams", package: "Yams"),
                .product(name: "OrderedCollections", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
                // Salt's log levels, formats and log file (SaltLog.swift): a small package, no NIO.
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(name: "CBrineShims"),
        .target(name: "BrineModules", dependencies: ["BrineCore", "CBrineShims", .product(name: "Logging", package: "swift-log")]),

        .target(name: "BrineState", dependencies: ["Jinja", "BrineCore", "BrineModules", .product(name: "Logging", package: "swift-log")]),
        // Brine's protocol, where master, minions and clients meet: Noise_XX transport crypto,
        // framing, key files and the key store, typed messages, sessions, the sockets.
        .target(
            name: "BrineWire",
            dependencies: ["BrineCore", .product(name: "Crypto", package: "swift-crypto"), .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "NIOPosix", package: "swift-nio"), .product(name: "DequeModule", package: "swift-collections")]
        ),
        // The cluster's shared state in PostgreSQL (`cluster_database`): keys, where minions are,
        // jobs, deliveries and returns, and the notifications that wake the other masters.
        .target(
            name: "BrineCluster",
            dependencies: ["BrineCore", "BrineWire", .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "DequeModule", package: "swift-collections"),
                           .product(name: "Logging", package: "swift-log"), .product(name: "NIOSSL", package: "swift-nio-ssl")]
        ),
        .target(
            name: "BrineMaster",
            dependencies: [
                "BrineCore", "BrineWire", "BrineModules", "BrineState", "CBrineShims", "BrineCluster",
                .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOPosix", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "OrderedCollections", package: "swift-collections"), .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "BrineMinion",
            dependencies: ["BrineCore", "BrineWire", "BrineModules", "BrineState", .product(name: "NIOCore", package: "swift-nio"),
                           .product(name: "DequeModule", package: "swift-collections"), .product(name: "Logging", package: "swift-log")]
        ),
        // The master's HTTP port: monitor API, stats, metrics, the fleet page.
        .target(
            name: "BrineAPI",
            dependencies: ["BrineCore", "BrineWire", "BrineMaster", .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdTLS", package: "hummingbird"),
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "OrderedCollections", package: "swift-collections")]
        ),
        // Docker Engine API client on NIOHTTP1 (no async-http-client: see
        // DockerTransport), image builds, containers as minions.
        .target(
            name: "BrineContainer",
            dependencies: [
                "BrineCore", "BrineModules", "BrineState", "BrineWire",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ]
        ),
        // What `brine call` and the other commands share: config and output options, the call
        // command, the in-container build commands. No NIO: `brine` links only this.
        .target(
            name: "BrineCommandLine",
            dependencies: ["BrineCore", "BrineModules", "BrineState", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "OrderedCollections", package: "swift-collections"), .product(name: "Logging", package: "swift-log")]
        ),
        // The command users type: `call` and the in-container build commands in process, every
        // other command handed to brine-full or brine-minion beside it (see Sources/brine/Brine.swift).
        .executableTarget(name: "brine", dependencies: ["BrineCore", "BrineCommandLine", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // Every command: the master, keys, jobs, builds, containers, monitor, REST API.
        .executableTarget(
            name: "brine-full",
            dependencies: [
                "BrineCore", "BrineModules", "BrineState", "BrineWire", "BrineMaster", "BrineMinion", "BrineContainer", "BrineAPI",
                "BrineCommandLine", "BrineCluster", .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "OrderedCollections", package: "swift-collections"),
            ]
        ),
        // The minion alone: what `brine minion` runs when it sits beside `brine`
        // (no master, HTTP, Docker or ArgumentParser: an idle minion stays small).
        .executableTarget(name: "brine-minion", dependencies: ["BrineCore", "BrineMinion"]),
        .testTarget(name: "JinjaTests", dependencies: ["Jinja"], resources: [.copy("Resources")]),
        .testTarget(name: "BrineCoreTests", dependencies: ["BrineCore"]),
        .testTarget(name: "BrineModulesTests", dependencies: ["BrineModules"]),
        .testTarget(name: "BrineStateTests", dependencies: ["BrineState"]),
        .testTarget(name: "BrineWireTests", dependencies: ["BrineWire", "BrineCore", .product(name: "NIOPosix", package: "swift-nio"),
                                                         .product(name: "NIOEmbedded", package: "swift-nio")],
                    resources: [.copy("Resources")]),
        .testTarget(name: "BrineMasterTests", dependencies: ["BrineMaster", "BrineCluster"]),
        // The minion's parts in process: its job pool, its requests to the master over a real session.
        .testTarget(name: "BrineMinionTests", dependencies: ["BrineMinion", "BrineWire", "BrineCore", .product(name: "NIOCore", package: "swift-nio"),
                                                           .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "BrineContainerTests", dependencies: ["BrineContainer"]),
        // The master's HTTP port in process, through Hummingbird's router test client.
        .testTarget(name: "BrineAPITests", dependencies: ["BrineAPI", "BrineMaster", "BrineCore",
                                                        .product(name: "Hummingbird", package: "hummingbird"),
                                                        .product(name: "HummingbirdTesting", package: "hummingbird")]),
        // Runs the built `brine` binary as a user would.
        .testTarget(name: "BrineCLITests", dependencies: ["brine", "brine-full", "brine-minion", "BrineCore", "BrineModules", "BrineWire"]),
    ],
    swiftLanguageModes: [.v6]
)
