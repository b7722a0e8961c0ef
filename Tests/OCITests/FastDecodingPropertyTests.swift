import FoundationEssentials
import XCTest
@testable import OCI

/// Generated documents: the golden fixture with optional properties dropped or set to
/// null at random. Both decoders must agree on every one, and the fast path must take
/// each (none of them is invalid).
final class FastDecodingPropertyTests: XCTestCase {
    /// Properties that are required somewhere; they are never dropped, so every
    /// generated document stays valid. (A few, like `type`, are optional elsewhere.)
    private static let required: Set<String> = [
        "ociVersion", "user", "cwd", "uid", "gid", "path", "destination", "containerID", "hostID", "size",
        "type", "hard", "soft", "class", "priority", "policy", "domain", "allow", "limit", "major", "minor",
        "rate", "pageSize", "name", "names", "action", "index", "value", "op", "defaultAction", "height", "width",
    ]

    /// Maps, whose keys are data rather than properties: their entries may be dropped
    /// but never nulled (a null map value is invalid).
    private static let maps: Set<String> = ["annotations", "sysctl", "unified", "timeOffsets", "rdma", "netDevices"]

    func testRandomlyDroppedOptionalPropertiesDecodeAlike() throws {
        let golden = try JSONTreeParser.parse(Array(goldenSpec.encodedJSON()))
        var generator = SeededGenerator(seed: 0x5AFE_4005E)
        var differentDocuments = Set<Data>()
        for iteration in 0..<200 {
            let tree = Self.prune(golden, inMap: false, using: &generator)
            let document = JSONTreeWriter.write(tree)
            differentDocuments.insert(document)
            assertFastDecodes(document, "(iteration \(iteration): \(String(decoding: document, as: UTF8.self)))")
        }
        XCTAssertGreaterThan(differentDocuments.count, 190, "the generator should vary the documents")
    }

    static func prune(_ tree: JSONTree, inMap: Bool, using generator: inout SeededGenerator) -> JSONTree {
        switch tree {
        case .array(let elements):
            return .array(elements.map { prune($0, inMap: false, using: &generator) })
        case .object(let members):
            var result = JSONObject()
            for (key, value) in members {
                let pruned = prune(value, inMap: Self.maps.contains(key) && !inMap, using: &generator)
                if !inMap, Self.required.contains(key) {
                    result[key] = pruned
                    continue
                }
                switch Int.random(in: 0..<10, using: &generator) {
                case 0, 1: continue // dropped
                case 2 where !inMap: result[key] = .null
                default: result[key] = pruned
                }
            }
            return .object(result)
        default:
            return tree
        }
    }
}
