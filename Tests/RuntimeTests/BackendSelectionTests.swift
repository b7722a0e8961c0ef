import XCTest
@testable import Runtime
import Linux
import OCI
#if canImport(Glibc)
import Glibc
#endif

/// Which backend a container gets, and the root's config file.
final class BackendSelectionTests: XCTestCase {
    func testFlagWinsOverAnnotationAndConfig() throws {
        let ann = [Backend.annotation: "native"]
        XCTAssertEqual(try Backend.select(flag: .gvisor, annotations: ann) { .native }, .gvisor)
        XCTAssertEqual(try Backend.select(flag: .native, annotations: [Backend.annotation: "gvisor"]) { .gvisor }, .native)
    }

    func testAnnotationWinsOverConfig() throws {
        XCTAssertEqual(try Backend.select(flag: nil, annotations: [Backend.annotation: "gvisor"]) { .native }, .gvisor)
        XCTAssertEqual(try Backend.select(flag: nil, annotations: [Backend.annotation: "native"]) { .gvisor }, .native)
    }

    func testConfigThenNative() throws {
        XCTAssertEqual(try Backend.select(flag: nil, annotations: nil) { .gvisor }, .gvisor)
        XCTAssertEqual(try Backend.select(flag: nil, annotations: ["other": "x"]) { nil }, .native)
    }

    func testConfigIsNotReadWhenFlagOrAnnotationDecides() throws {
        var read = false
        _ = try Backend.select(flag: .native, annotations: nil) { read = true; return nil }
        _ = try Backend.select(flag: nil, annotations: [Backend.annotation: "gvisor"]) { read = true; return nil }
        XCTAssertFalse(read)
    }

    func testUnknownNamesNameTheirField() {
        XCTAssertThrowsError(try Backend.parse("kata", field: "--backend")) {
            XCTAssertEqual("\($0)", "--backend: unknown backend \"kata\" (use native or gvisor)")
        }
        XCTAssertThrowsError(try Backend.select(flag: nil, annotations: [Backend.annotation: "runsc"]) { nil }) {
            XCTAssertEqual("\($0)", "annotations[\"io.safehouse.backend\"]: unknown backend \"runsc\" (use native or gvisor)")
        }
        // Case matters, as for every other closed vocabulary of the spec.
        XCTAssertThrowsError(try Backend.parse("GVISOR", field: "--backend"))
    }
}

final class BackendConfigTests: XCTestCase {
    func testParsesEveryKeyWithCommentsAndBlanks() throws {
        let text = """
        # safehouse defaults for this root
        backend = gvisor   # runsc for everything

        runsc=/usr/bin/runsc
        runsc-debug-log = /var/log/runsc/
        runsc-overlay = root:memory
        """
        XCTAssertEqual(try BackendConfig.parse(text, path: "c"),
                       BackendConfig(backend: .gvisor, runsc: "/usr/bin/runsc", runscDebugLog: "/var/log/runsc/", runscOverlay: "root:memory"))
        XCTAssertEqual(try BackendConfig.parse("", path: "c"), BackendConfig())
    }

    func testBadLinesNameFileLineAndKey() {
        let cases: [(String, String)] = [
            ("backend = kata\n", "f.conf:1: backend: unknown backend \"kata\" (use native or gvisor)"),
            ("\nbakend = gvisor\n", "f.conf:2: bakend: unknown key (known: backend, policies, runsc, runsc-debug-log, runsc-overlay)"),
            ("backend gvisor\n", "f.conf:1: expected \"key = value\", got \"backend gvisor\""),
            ("backend =\n", "f.conf:1: backend: empty value"),
            ("runsc = runsc\n", "f.conf:1: runsc: \"runsc\" is not an absolute path"),
            ("runsc-overlay = disk\n", "f.conf:1: runsc-overlay: \"disk\" is not none or {root|all}:{memory|/dir}"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try BackendConfig.parse(text, path: "f.conf"), text) { XCTAssertEqual("\($0)", message) }
        }
    }

    func testLoadPrefersTheRootsFileThenTheSystemsThenNone() throws {
        let dir = try tempDirectory()
        defer { try? Files.removeTree(dir) }
        let root = dir + "/root", system = dir + "/etc"
        try Files.makeDirectories(root)
        try Files.makeDirectories(system)
        XCTAssertNil(try BackendConfig.load(root: root, systemDirectory: system))
        try Files.write(system + "/safehouse.conf", "backend = gvisor\n", flags: O_WRONLY | O_CREAT | O_TRUNC)
        XCTAssertEqual(try BackendConfig.load(root: root, systemDirectory: system)?.backend, .gvisor)
        try Files.write(root + "/safehouse.conf", "backend = native\n", flags: O_WRONLY | O_CREAT | O_TRUNC)
        XCTAssertEqual(try BackendConfig.load(root: root, systemDirectory: system)?.backend, .native)
        // A root that does not exist yet (the first create makes it): the system's file.
        XCTAssertEqual(try BackendConfig.load(root: dir + "/missing", systemDirectory: system)?.backend, .gvisor)
        try Files.write(root + "/safehouse.conf", "backend = nope\n", flags: O_WRONLY | O_CREAT | O_TRUNC)
        XCTAssertThrowsError(try BackendConfig.load(root: root, systemDirectory: system)) {
            XCTAssertEqual("\($0)", "\(root)/safehouse.conf:1: backend: unknown backend \"nope\" (use native or gvisor)")
        }
    }

    private func tempDirectory() throws -> String {
        var template = Array("/tmp/safehouse-backendconfig-XXXXXX".utf8CString)
        guard let p = mkdtemp(&template) else { throw RuntimeError("mkdtemp") }
        return String(cString: p)
    }
}
