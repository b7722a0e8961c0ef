import FoundationEssentials
import XCTest
@testable import OCI

/// The hand-written encoder (FastEncoding.swift) writes what JSONEncoder, the Codable
/// oracle, writes: JSONDecoder reads back the same Spec, for the golden fixture (every property set, so a property
/// the fast writer forgot fails here) and for variants with properties dropped.
final class FastEncodingTests: XCTestCase {
    private func assertRoundTrips(_ spec: Spec, _ label: String = "", file: StaticString = #filePath, line: UInt = #line) {
        let bytes = spec.compactJSON()
        XCTAssertFalse(bytes.contains(UInt8(ascii: "\n")), "compact: one line", file: file, line: line)
        do {
            let back = try JSONDecoder().decode(Spec.self, from: Data(bytes))
            XCTAssertEqual(back, spec, label, file: file, line: line)
        } catch {
            XCTFail("\(error) \(label): \(String(decoding: bytes, as: UTF8.self))", file: file, line: line)
        }
    }

    func testGoldenFixtureRoundTrips() {
        assertRoundTrips(goldenSpec)
    }

    /// The same members as JSONEncoder's output, at every level.
    func testSameMembersAsJSONEncoder() throws {
        let fast = try JSONTreeParser.parse(goldenSpec.compactJSON())
        let slow = try JSONTreeParser.parse(Array(goldenSpec.encodedJSON()))
        XCTAssertEqual(paths(fast), paths(slow))
    }

    func testPrunedVariantsRoundTrip() throws {
        let golden = try JSONTreeParser.parse(Array(goldenSpec.encodedJSON()))
        var generator = SeededGenerator(seed: 0xE4C0DE)
        for iteration in 0..<200 {
            let document = JSONTreeWriter.write(FastDecodingPropertyTests.prune(golden, inMap: false, using: &generator))
            let spec = try JSONDecoder().decode(Spec.self, from: document)
            assertRoundTrips(spec, "(iteration \(iteration))")
            if let process = spec.process {
                XCTAssertEqual(try JSONDecoder().decode(Process.self, from: Data(process.compactJSON())), process, "(iteration \(iteration))")
            }
            if let resources = spec.linux?.resources {
                XCTAssertEqual(try JSONDecoder().decode(LinuxResources.self, from: Data(resources.compactJSON())), resources, "(iteration \(iteration))")
            }
        }
    }

    func testMinimalSpecAndEscapes() {
        assertRoundTrips(Spec())
        var s = Spec(hostname: "a\"b\\c\n\u{1}é", annotations: ["z": "1", "a": "\t"])
        s.mounts = []
        assertRoundTrips(s)
        XCTAssertEqual(String(decoding: Spec(ociVersion: "1.2.0", annotations: ["b": "2", "a": "1"]).compactJSON(), as: UTF8.self),
                       #"{"ociVersion":"1.2.0","annotations":{"a":"1","b":"2"}}"#)
    }

    /// Process and LinuxResources documents (`runsc exec --process`, `update
    /// --resources`) read back through Codable as the values written.
    func testProcessAndResourcesRoundTrip() throws {
        let process = try XCTUnwrap(goldenSpec.process)
        XCTAssertEqual(try JSONDecoder().decode(Process.self, from: Data(process.compactJSON())), process)
        let resources = try XCTUnwrap(goldenSpec.linux?.resources)
        XCTAssertEqual(try JSONDecoder().decode(LinuxResources.self, from: Data(resources.compactJSON())), resources)
        XCTAssertEqual(try JSONDecoder().decode(LinuxResources.self, from: Data(LinuxResources().compactJSON())), LinuxResources())
    }

    /// `encodedJSON()` is JSONEncoder's pretty, sorted layout, byte for byte, for the
    /// default spec; for the golden fixture it reads back as the same value.
    func testEncodedJSONMatchesJSONEncoder() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        for spec in [Spec.runcDefault(rootless: false), Spec.runcDefault(rootless: true, hostUID: 1000, hostGID: 1001), Spec()] {
            XCTAssertEqual(String(decoding: spec.encodedJSON(), as: UTF8.self), String(decoding: try encoder.encode(spec), as: UTF8.self))
        }
        XCTAssertEqual(try JSONDecoder().decode(Spec.self, from: goldenSpec.encodedJSON()), goldenSpec)
        var empty = Spec()
        empty.mounts = []
        empty.annotations = [:]
        XCTAssertEqual(String(decoding: empty.encodedJSON(), as: UTF8.self), String(decoding: try encoder.encode(empty), as: UTF8.self))
    }

    private func paths(_ tree: JSONTree, _ prefix: String = "") -> Set<String> {
        switch tree {
        case .object(let o):
            var all: Set<String> = [prefix]
            for (i, k) in o.keys.enumerated() { all.formUnion(paths(o.values[i], prefix + "." + k)) }
            return all
        case .array(let elements):
            var all: Set<String> = [prefix]
            for e in elements { all.formUnion(paths(e, prefix + "[]")) }
            return all
        default:
            return [prefix]
        }
    }
}
