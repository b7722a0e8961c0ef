import FoundationEssentials
import XCTest
@testable import OCI

/// Generated documents: the golden fixture with optional properties dropped or set to
/// null at random (all valid), or with one value broken. `Spec.decode` must agree with
/// JSONDecoder, the Codable oracle, on every one: the same value, or both refuse, and
/// then the refusal names the field.
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

    func testRandomlyBrokenDocumentsAreRefusedAlike() throws {
        let golden = try JSONTreeParser.parse(Array(goldenSpec.encodedJSON()))
        let replacements: [JSONTree?] = [
            nil, .null, .string("x"), .number("-1"), .number("1.5"), .number("1e2"), .number("18446744073709551616"),
            .bool(true), .array([]), .array([.null]), .object([:]), .object(["x": .null]),
        ]
        var generator = SeededGenerator(seed: 0xB40C_E7)
        var refused = 0
        for iteration in 0..<400 {
            var remaining = Int.random(in: 1..<Self.nodeCount(golden), using: &generator)
            let replacement = replacements[Int.random(in: 0..<replacements.count, using: &generator)]
            let document = JSONTreeWriter.write(Self.replace(golden, &remaining, replacement) ?? golden)
            let label = "(iteration \(iteration): \(String(decoding: document, as: UTF8.self)))"
            if case .failure(let error) = compareDecoders(document, label).decoded {
                refused += 1
                XCTAssertFalse((error as? OCIError)?.field.isEmpty ?? true, "\(error) \(label)")
            }
        }
        XCTAssertGreaterThan(refused, 100, "the generator should break documents")
    }

    private static func nodeCount(_ tree: JSONTree) -> Int {
        switch tree {
        case .array(let elements): return elements.reduce(1) { $0 + nodeCount($1) }
        case .object(let members): return members.reduce(1) { $0 + nodeCount($1.value) }
        default: return 1
        }
    }

    /// The tree with its `remaining`th node (pre-order) replaced; nil removes it.
    private static func replace(_ tree: JSONTree, _ remaining: inout Int, _ replacement: JSONTree?) -> JSONTree? {
        if remaining == 0 {
            remaining = -1
            return replacement
        }
        remaining -= 1
        switch tree {
        case .array(let elements):
            var result: [JSONTree] = []
            for element in elements {
                if let kept = replace(element, &remaining, replacement) { result.append(kept) }
            }
            return .array(result)
        case .object(let members):
            var result = JSONObject()
            for (key, value) in members {
                if let kept = replace(value, &remaining, replacement) { result[key] = kept }
            }
            return .object(result)
        default:
            return tree
        }
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
