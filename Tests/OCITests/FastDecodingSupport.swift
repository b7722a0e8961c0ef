import FoundationEssentials
import XCTest
@testable import OCI

/// What the fast path and JSONDecoder make of one document.
struct DecodingComparison {
    let fast: Spec?
    let reference: Spec?
}

/// Decodes `data` with both paths and fails the test if the fast path accepted a
/// document JSONDecoder refuses or read it differently.
@discardableResult
func compareDecoders(_ data: Data, _ label: String = "", file: StaticString = #filePath, line: UInt = #line) -> DecodingComparison {
    let fast = FastDecoding.spec(from: Array(data))
    let reference = try? JSONDecoder().decode(Spec.self, from: data)
    if let fast {
        XCTAssertNotNil(reference, "fast path accepted a document JSONDecoder refuses \(label)", file: file, line: line)
        XCTAssertEqual(fast, reference, "fast path disagrees with JSONDecoder \(label)", file: file, line: line)
    }
    return DecodingComparison(fast: fast, reference: reference)
}

/// Asserts both paths decode `data` to the same value, the fast path included.
@discardableResult
func assertFastDecodes(_ data: Data, _ label: String = "", file: StaticString = #filePath, line: UInt = #line) -> Spec? {
    let result = compareDecoders(data, label, file: file, line: line)
    XCTAssertNotNil(result.reference, "JSONDecoder refused a document the test means to be valid \(label)", file: file, line: line)
    XCTAssertNotNil(result.fast, "fast path gave up on a valid document \(label)", file: file, line: line)
    return result.fast
}

func assertFastDecodes(_ json: String, _ label: String = "", file: StaticString = #filePath, line: UInt = #line) {
    assertFastDecodes(Data(json.utf8), label, file: file, line: line)
}

/// A deterministic generator (SplitMix64), so a failing iteration can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A tiny JSON writer for `JSONTree`, so tests can edit documents without
/// JSONSerialization. Keys are written in sorted order for stable output.
enum JSONTreeWriter {
    static func write(_ tree: JSONTree) -> Data {
        var out = ""
        write(tree, into: &out)
        return Data(out.utf8)
    }

    static func write(_ tree: JSONTree, into out: inout String) {
        switch tree {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .number(let text): out += text
        case .string(let text): writeString(text, into: &out)
        case .array(let elements):
            out += "["
            for (position, element) in elements.enumerated() {
                if position > 0 { out += "," }
                write(element, into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (position, key) in members.keys.sorted().enumerated() {
                if position > 0 { out += "," }
                writeString(key, into: &out)
                out += ":"
                if let value = members[key] { write(value, into: &out) }
            }
            out += "}"
        }
    }

    static func writeString(_ text: String, into out: inout String) {
        out += FlatJSONWriter.quoted(text)
    }
}
