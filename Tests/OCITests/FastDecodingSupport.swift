import FoundationEssentials
import XCTest
@testable import OCI

/// What `Spec.decode` and JSONDecoder, the Codable oracle, make of one document.
struct DecodingComparison {
    let decoded: Result<Spec, any Error>
    let reference: Spec?

    var fast: Spec? { try? decoded.get() }

    /// The refusal's text, nil when the document was accepted.
    var error: String? {
        if case .failure(let error) = decoded { return "\(error)" }
        return nil
    }
}

/// Decodes `data` with both and fails the test unless they agree: the same value, or
/// both refuse, `Spec.decode` with a one-line `OCIError`.
@discardableResult
func compareDecoders(_ data: Data, _ label: String = "", file: StaticString = #filePath, line: UInt = #line) -> DecodingComparison {
    let decoded = Result<Spec, any Error> { try Spec.decode(from: data) }
    let reference = try? JSONDecoder().decode(Spec.self, from: data)
    switch decoded {
    case .success(let spec):
        XCTAssertNotNil(reference, "accepted a document JSONDecoder refuses \(label)", file: file, line: line)
        XCTAssertEqual(spec, reference, "disagrees with JSONDecoder \(label)", file: file, line: line)
    case .failure(let error):
        XCTAssertNil(reference, "refused a document JSONDecoder accepts \(label): \(error)", file: file, line: line)
        XCTAssertTrue(error is OCIError, "\(type(of: error)): \(error) \(label)", file: file, line: line)
        XCTAssertFalse("\(error)".contains("\n"), "one line: \(error)", file: file, line: line)
    }
    return DecodingComparison(decoded: decoded, reference: reference)
}

/// Asserts both decode `data` to the same value.
@discardableResult
func assertFastDecodes(_ data: Data, _ label: String = "", file: StaticString = #filePath, line: UInt = #line) -> Spec? {
    let result = compareDecoders(data, label, file: file, line: line)
    XCTAssertNotNil(result.reference, "JSONDecoder refused a document the test means to be valid \(label)", file: file, line: line)
    XCTAssertNotNil(result.fast, "refused a valid document \(label): \(result.error ?? "")", file: file, line: line)
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
        case .unreadableString: out += #""\ud800""#
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
