import Cgroups
@testable import Runtime
import XCTest
@testable import safehouse

/// runc's value syntaxes (go-units sizes, Go durations) and Go's JSON member order.
final class ValueSyntaxTests: XCTestCase {
    func testMemorySizesAsGoUnitsReadsThem() throws {
        let cases: [(String, Int64)] = [
            ("52428800", 52_428_800), ("50M", 52_428_800), ("50m", 52_428_800), ("50MB", 52_428_800),
            ("50mib", 52_428_800), ("50 M", 52_428_800), ("1.5g", 1_610_612_736), ("512k", 524_288),
            ("1t", 1 << 40), ("2p", 2 << 50), ("100b", 100), ("-1", -1), ("1.9", 1),
        ]
        for (text, bytes) in cases {
            XCTAssertEqual(try ValueSyntax.memorySize(text, field: "--memory"), bytes, text)
        }
        for bad in ["", "M", "50Q", "-2", "1.2.3", "5 0M", "50  M", "0x10", "1e6", "50MM", "9999999p"] {
            XCTAssertThrowsError(try ValueSyntax.memorySize(bad, field: "--memory"), bad) { error in
                XCTAssertTrue("\(error)".hasPrefix("--memory: "), "\(error)")
            }
        }
    }

    func testGoDurations() {
        let cases: [(String, Double)] = [
            ("100ms", 0.1), ("5s", 5), ("1m", 60), ("1h", 3600), ("2m30s", 150), ("1.5s", 1.5),
            ("250us", 0.00025), ("250\u{00B5}s", 0.00025), ("10ns", 1e-8), ("-1s", -1), ("0", 0), ("5", 5), (".5s", 0.5),
        ]
        for (text, seconds) in cases {
            guard let parsed = ValueSyntax.duration(text) else { XCTFail("refused \(text)"); continue }
            XCTAssertEqual(parsed, seconds, accuracy: 1e-12, text)
        }
        for bad in ["", "s", "5x", "ms", "1.2.3s", "5 s", "--1s", "1s2"] {
            XCTAssertNil(ValueSyntax.duration(bad), bad)
        }
    }

    /// runc's events line: type, id, data, in that order; an oom event has no data.
    func testEventsKeepRuncsMemberOrder() throws {
        XCTAssertEqual(try OrderedJSON.encode(ContainerEvent(type: "oom", id: "c1", data: nil)), #"{"type":"oom","id":"c1"}"#)
        var stats = CgroupStats()
        stats.pids.current = 3
        stats.memory.raw = ["zeta": 1, "alpha": 2]
        let line = try OrderedJSON.encode(ContainerEvent(type: "stats", id: "c1", data: stats))
        XCTAssertTrue(line.hasPrefix(#"{"type":"stats","id":"c1","data":{"cpu":{"usage":{"kernel":0,"user":0},"throttling":{}},"cpuset":"#), line)
        XCTAssertTrue(line.contains(#""raw":{"alpha":2,"zeta":1}"#), line)
        XCTAssertTrue(line.contains(#""pids":{"current":3},"blkio":{"#), line)
        XCTAssertTrue(line.hasSuffix(#""network_interfaces":null}}"#), line)
        // Nested members too: runc's cpu usage puts the per-cpu splits before kernel
        // and user, and its cpuset cpu_exclusive between cpus and mems.
        stats.cpu.usage.percpu = [1, 2]
        stats.cpu.usage.percpuKernel = [3, 4]
        stats.cpu.usage.percpuUser = [5, 6]
        stats.cpuset.cpus = [0, 1]
        stats.cpuset.mems = [0]
        let nested = try OrderedJSON.encode(ContainerEvent(type: "stats", id: "c1", data: stats))
        XCTAssertTrue(nested.contains(#""usage":{"percpu":[1,2],"percpu_kernel":[3,4],"percpu_user":[5,6],"kernel":0,"user":0}"#), nested)
        XCTAssertTrue(nested.contains(#""cpuset":{"cpus":[0,1],"cpu_exclusive":0,"mems":[0],"mem_hardwall":0,"#), nested)
    }

    /// runc's list entries: ociVersion, id, pid, status, bundle, rootfs, created,
    /// owner; slashes unescaped and <, >, & escaped as Go writes them.
    func testListEntriesKeepRuncsMemberOrder() throws {
        let report = ContainerReport(ociVersion: "1.2.0", id: "c1", pid: 42, status: .running, bundle: "/b/<x>&",
                                     rootfs: "/r", created: "2026-01-01T00:00:00Z", owner: "root", annotations: nil)
        XCTAssertEqual(try OrderedJSON.encode([report]),
                       #"[{"ociVersion":"1.2.0","id":"c1","pid":42,"status":"running","bundle":"/b/\u003cx\u003e\u0026","rootfs":"/r","created":"2026-01-01T00:00:00Z","owner":"root"}]"#)
    }
}
