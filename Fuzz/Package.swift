// swift-tools-version:6.0
// Fuzzing the parsers that read hostile input: config.json (OCI), policies (YAML and
// JSON), state files and the warden's report (flat JSON). A separate package because
// a libFuzzer target has no main and links only with -sanitize=fuzzer:
//
//   hack/fuzz [SECONDS]      (builds with -sanitize=fuzzer,address and runs libFuzzer
//                             over Fuzz/corpus; CI runs it for a bounded time)
import Foundation
import PackageDescription

// A path dependency's identity is its directory's name (a clone may be called anything).
let parent = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let package = Package(
    name: "safehouse-fuzz",
    dependencies: [.package(path: "..")],
    targets: [
        .executableTarget(
            name: "FuzzParsers",
            dependencies: [
                .product(name: "SafehouseParsers", package: parent),
            ],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ]
)
