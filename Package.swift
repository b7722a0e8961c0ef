// swift-tools-version:6.0
// safehouse: an OCI runtime for running AI agents safely.
//
// Dependencies between targets point down only.
//   safehouse (CLI) -> Runtime -> Sandbox -> ContainerCore -> Cgroups -> Linux -> CLinux
//                                                         -> OCI
// safehouse-serve (Serve) runs the safehouse binary; it links neither Runtime nor Agent.
// safehouse-mcp (SandboxMCP -> Serve, MCP) is the MCP server over the same sandboxes.
// Observe (read-only: state, cgroups, audit logs) serves both `safehouse top` and /metrics.
// The runtime executable never links SwiftNIO (start-up cost); release builds are
// linked with `-static-executable` by hack/build (see README "Why static").
import PackageDescription

let package = Package(
    name: "safehouse",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "safehouse", targets: ["safehouse"]),
        .executable(name: "safehouse-warden", targets: ["safehouse-warden"]),
        .executable(name: "safehouse-audit", targets: ["safehouse-audit"]),
        .executable(name: "safehouse-serve", targets: ["safehouse-serve"]),
        .executable(name: "safehouse-mcp", targets: ["safehouse-mcp"]),
        // For Fuzz/ (libFuzzer): the parsers of hostile input.
        .library(name: "SafehouseParsers", targets: ["OCI", "Agent", "Egress", "Images"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The warden (the egress proxy) and safehouse-serve link SwiftNIO; the runtime never does.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        // The MCP server's protocol (JSON-RPC, tools, the stdio transport); only
        // safehouse-mcp links it (docs/mcp.md measures what it costs).
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        // The service's /metrics (Prometheus text format): docs/observe.md says what it cost.
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // The C that Swift cannot call directly: variadic syscalls, ioctls, SCM_RIGHTS.
        .target(name: "CLinux"),
        // Typed Swift wrappers over the system calls the runtime needs.
        .target(name: "Linux", dependencies: ["CLinux"]),
        // Codable runtime-spec types (config, state, features). Knows nothing of Linux.
        .target(name: "OCI"),
        // cgroup hierarchies (v1, v2, hybrid): discovery, placement, removal.
        .target(name: "Cgroups", dependencies: ["Linux", "OCI"]),
        // What the runtime, the CLI and a sandbox's warden tell each other: the warden's
        // configuration and report documents, and the one audit client (AuditChain).
        // Flat JSON, no Foundation: the runtime writes the configuration on `run`'s path.
        .target(name: "SandboxInterface", dependencies: ["OCI", "Linux", "AuditChain"]),
        // What every backend shares: the state store and the container's record, the
        // status rules of the verbs, hooks, the runtime's error, the backend protocol.
        .target(name: "ContainerCore", dependencies: ["OCI", "Linux", "Cgroups"]),
        // What a sandbox adds around a container: the ephemeral root, the input and output
        // zones, the warden's launch, the egress listeners and transparent capture.
        .target(name: "Sandbox", dependencies: ["ContainerCore", "SandboxInterface", "OCI", "Linux", "CLinux"]),
        // The container lifecycle: picks the backend from the record and runs the verbs.
        .target(name: "Runtime", dependencies: ["ContainerCore", "Sandbox", "SandboxInterface", "OCI", "Linux", "Cgroups", "Seccomp"]),
        // libseccomp through a shim header; which library file is linked is Seccomp's choice.
        .systemLibrary(name: "CSeccomp"),
        // linux.seccomp compiled to BPF (in the parent) and loaded (in the child). Debug
        // builds link libseccomp.so; release builds link the archive by name, because a -L
        // directory loses to the system lib dir, where the .so would be found first.
        .target(
            name: "Seccomp",
            dependencies: ["CSeccomp", "OCI", "Linux"],
            linkerSettings: [
                .linkedLibrary("seccomp", .when(configuration: .debug)),
                .linkedLibrary(":libseccomp.a", .when(configuration: .release)),
            ]
        ),
        // OCI images for sandboxes: the content-addressed layer store, the layer tar
        // reader and unpacker (hostile layers refused), fetching through skopeo, and the
        // change set of a kept sandbox made into a layer (docs/images.md).
        .target(name: "Images", dependencies: ["Linux", "CLinux", "AuditChain", "CZlib"]),
        // zlib's inflate (gzip layers decompressed in process, not through a pipe).
        .systemLibrary(name: "CZlib"),
        // Agent sandboxes: policy files, shipped profiles, the generated OCI spec.
        .target(name: "Agent", dependencies: ["OCI", "Linux", "Runtime", "Cgroups", "Egress", "SandboxInterface", "Images"]),
        // Egress policy, pure: allowlist rules, the address policy, ClientHello SNI and
        // request-head parsing. No NIO, no system calls: unit-tested as plain values.
        .target(name: "Egress"),
        // The per-sandbox keeper: deadline, emergency stop, limit events (Warden.swift),
        // and the egress proxy (SwiftNIO, one event loop thread, only with an allowlist).
        .target(
            name: "Warden",
            dependencies: [
                "Linux", "Cgroups", "CLinux", "Egress", "OCI", "SandboxInterface",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "safehouse-warden", dependencies: ["Warden", "Linux", "SandboxInterface"]),
        // The hash-chained audit log's writing side: append, the head, SHA-256 and
        // HMAC-SHA-256 in plain Swift, no Foundation: the runtime links it and appends a
        // sandbox's records itself (AuditChain/SHA256.swift says why not swift-crypto).
        .target(name: "AuditChain", dependencies: ["OCI"]),
        // Reading the log: verify and show (Foundation's JSON), in its own executable,
        // safehouse-audit, which `safehouse audit|hook` exec.
        .target(name: "Audit", dependencies: ["AuditChain", "OCI"]),
        .executableTarget(name: "safehouse-audit", dependencies: ["Audit", "OCI", "Flags"]),
        // The sandbox API (docs/serve.md): HTTP/1.1 on SwiftNIO, Foundation for JSON and
        // processes. It drives sandboxes by running the safehouse binary, never by
        // linking the runtime (single-threaded, fork-based); `safehouse serve` execs
        // safehouse-serve.
        // setfsuid/setfsgid per thread: the service writes a sandbox's files as its root.
        .target(name: "CServe"),
        .target(
            name: "Serve",
            dependencies: [
                "CLinux", "CServe", "CZlib", "Images", "Sandbox", "SandboxInterface", "Egress", "Observe",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // Linked statically, it and safehouse-mcp take libcurl from hack/curl-unavailable
        // (hack/build says why).
        .executableTarget(name: "safehouse-serve", dependencies: ["Serve", "SandboxMCP"]),
        // The MCP server (docs/mcp.md): its tools over the Serve library's sandboxes, in
        // process; `safehouse mcp` execs safehouse-mcp.
        .target(
            name: "SandboxMCP",
            dependencies: ["Serve", .product(name: "MCP", package: "swift-sdk")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(name: "safehouse-mcp", dependencies: ["SandboxMCP"], swiftSettings: [.swiftLanguageMode(.v5)]),
        // Every verb and flag of the command line, declared once, and the one parser of
        // both executables; help and docs/cli.md's reference are generated from it. No
        // Foundation, no swift-argument-parser: it runs on the hot path of every `run`.
        .target(name: "Flags"),
        // What `safehouse top` and the service's /metrics read of every sandbox under a
        // root (state, cgroups, the ephemeral root's tmpfs, the audit log's egress
        // records), and top's table. Reads only: it never signals or enters a sandbox.
        .target(name: "Observe", dependencies: ["ContainerCore", "Cgroups", "Sandbox", "Linux", "OCI", "AuditChain"]),
        // Argument parsing only.
        .executableTarget(name: "safehouse", dependencies: ["Runtime", "OCI", "Agent", "AuditChain", "Flags", "SandboxInterface", "Images", "Observe"]),
        .testTarget(name: "ImagesTests", dependencies: ["Images", "Linux", "CLinux"]),
        .testTarget(name: "OCITests", dependencies: ["OCI"]),
        .testTarget(name: "LinuxTests", dependencies: ["Linux"]),
        .testTarget(name: "CgroupsTests", dependencies: ["Cgroups", "Linux", "OCI"]),
        .testTarget(name: "ContainerCoreTests", dependencies: ["ContainerCore", "OCI", "Linux"]),
        .testTarget(name: "RuntimeTests", dependencies: ["Runtime", "ContainerCore", "OCI", "Cgroups", "SandboxInterface"]),
        .testTarget(name: "SandboxTests", dependencies: ["Sandbox", "ContainerCore", "OCI", "Linux", "SandboxInterface"]),
        .testTarget(name: "AgentTests", dependencies: ["Agent", "OCI", "Runtime", "Linux", "SandboxInterface"]),
        .testTarget(
            name: "WardenTests",
            dependencies: [
                "Warden", "Cgroups", "Linux", "Egress", "SandboxInterface", "OCI",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "EgressTests", dependencies: ["Egress"]),
        .testTarget(name: "ObserveTests", dependencies: ["Observe", "Cgroups", "ContainerCore", "Linux"]),
        // swift-crypto only here: the oracle the plain-Swift SHA-256 and HMAC are checked against.
        .testTarget(name: "AuditTests", dependencies: ["Audit", "AuditChain", .product(name: "Crypto", package: "swift-crypto")]),
        // The command line: the parser against the declarations, help, docs/cli.md.
        .testTarget(name: "CLITests", dependencies: ["safehouse", "Flags", "Agent", "AuditChain", "Runtime"]),
        // The service's pure parts and its HTTP handler in an EmbeddedChannel.
        .testTarget(
            name: "ServeTests",
            dependencies: [
                "Serve", "Images",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The MCP server's pure parts: its flags, the languages of run_code, tool arguments, results.
        .testTarget(
            name: "SandboxMCPTests",
            dependencies: ["SandboxMCP", "Serve", .product(name: "MCP", package: "swift-sdk")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(name: "SeccompTests", dependencies: ["Seccomp", "CSeccomp", "OCI", "Linux"]),
    ]
)
