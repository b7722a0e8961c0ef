// A small, strict JSON parser (RFC 8259). It is the front half of the spec decoder
// (FastDecoding.swift), and it says where a document fails: FoundationEssentials'
// JSONDecoder reports every syntax error as "The given data was not valid JSON." with
// no position; this parser finds the line and column.

/// A parsed JSON value. Numbers keep their text so that integer range checks are exact.
indirect enum JSONTree {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONTree])
    case object(JSONObject)
    /// A string JSONDecoder cannot read: it holds a lone surrogate or invalid UTF-8
    /// (`.decoding` mode only). Refused where it is read, ignored where it is skipped,
    /// as JSONDecoder, which decodes strings lazily, does.
    case unreadableString

    /// "a string", "a number", ... for "expected X, found Y" messages.
    var kindDescription: String {
        switch self {
        case .null: return "null"
        case .bool: return "true or false"
        case .number: return "a number"
        case .string, .unreadableString: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// A syntax error, with its position for the message.
struct JSONSyntaxError: Error {
    let message: String
}

/// Parses UTF-8 JSON text into a `JSONTree`.
///
/// The parser is the front half of `Spec.decode`, so it scans bytes rather than
/// appending characters one at a time. What JSON leaves to the reader (a repeated key,
/// a lone surrogate, invalid UTF-8) each `Mode` settles its own way.
struct JSONTreeParser {
    /// How repeated keys and text that is not Unicode are read.
    enum Mode {
        /// Refused (CanonicalJSON: the same details must always make the same bytes).
        case strict
        /// The last repeated key wins; bad text becomes U+FFFD (FlatJSON).
        case lenient
        /// As JSONDecoder reads a document, which the spec decoder must agree with:
        /// the first repeated key wins; a string with bad text is `.unreadableString`,
        /// an object with such a key has `hasUnreadableKey`.
        case decoding
    }

    private let bytes: [UInt8]
    private let mode: Mode
    private var index = 0
    private var depth = 0
    /// The string just parsed held a lone surrogate or invalid UTF-8 (`.decoding` mode).
    private var stringIsUnreadable = false

    /// Deeper nesting than this is refused rather than risking the stack; no sensible
    /// config.json comes close.
    static let maximumDepth = 256

    init(_ bytes: [UInt8], mode: Mode = .lenient) {
        self.bytes = bytes
        self.mode = mode
    }

    /// Parses the whole input as one JSON value.
    static func parse(_ bytes: [UInt8], mode: Mode = .lenient) throws(JSONSyntaxError) -> JSONTree {
        var parser = JSONTreeParser(bytes, mode: mode)
        // A UTF-8 byte order mark is tolerated, as JSONDecoder tolerates it.
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { parser.index = 3 }
        parser.skipWhitespace()
        let value = try parser.parseValue()
        parser.skipWhitespace()
        if parser.index < bytes.count {
            throw parser.error("unexpected \(parser.describeCurrent()) after the end of the document")
        }
        return value
    }

    private mutating func parseValue() throws(JSONSyntaxError) -> JSONTree {
        guard index < bytes.count else { throw error("unexpected end of data") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""):
            let text = try parseString()
            return stringIsUnreadable ? .unreadableString : .string(text)
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        default: throw error("unexpected \(describeCurrent())")
        }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> JSONTree {
        try enter()
        var members = JSONObject()
        skipWhitespace()
        if peek(UInt8(ascii: "}")) { index += 1; depth -= 1; return .object(members) }
        while true {
            skipWhitespace()
            guard peek(UInt8(ascii: "\"")) else { throw error("expected a property name in double quotes, found \(describeCurrent())") }
            let key = try parseString()
            if stringIsUnreadable { members.hasUnreadableKey = true }
            skipWhitespace()
            guard peek(UInt8(ascii: ":")) else { throw error("expected ':' after a property name, found \(describeCurrent())") }
            index += 1
            skipWhitespace()
            let value = try parseValue()
            switch mode {
            case .decoding:
                if members.position(of: key) == nil { members.updateValue(value, forKey: key) }
            case .strict:
                if members.updateValue(value, forKey: key) { throw error("duplicate property name") }
            case .lenient:
                members.updateValue(value, forKey: key)
            }
            skipWhitespace()
            if peek(UInt8(ascii: ",")) { index += 1; continue }
            if peek(UInt8(ascii: "}")) { index += 1; depth -= 1; return .object(members) }
            throw error("expected ',' or '}' in an object, found \(describeCurrent())")
        }
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> JSONTree {
        try enter()
        var elements: [JSONTree] = []
        skipWhitespace()
        if peek(UInt8(ascii: "]")) { index += 1; depth -= 1; return .array(elements) }
        while true {
            skipWhitespace()
            elements.append(try parseValue())
            skipWhitespace()
            if peek(UInt8(ascii: ",")) { index += 1; continue }
            if peek(UInt8(ascii: "]")) { index += 1; depth -= 1; return .array(elements) }
            throw error("expected ',' or ']' in an array, found \(describeCurrent())")
        }
    }

    /// Scans a run of plain bytes at a time; only escapes are decoded one by one. A run
    /// is decoded as a whole, so invalid UTF-8 becomes U+FFFD (or, when strict, is
    /// refused).
    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = index
        index += 1
        stringIsUnreadable = false
        var runStart = index
        // What precedes the last escape (never empty after one).
        var result = ""
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let text = try decodeRun(runStart, index)
                index += 1
                return result.isEmpty ? text : result + text
            } else if byte == UInt8(ascii: "\\") {
                result += try decodeRun(runStart, index)
                result.unicodeScalars.append(try parseEscape())
                runStart = index
            } else if byte < 0x20 {
                throw error("unescaped control character in a string")
            } else {
                index += 1
            }
        }
        index = start
        throw error("unterminated string")
    }

    /// The text of `bytes[from..<to]`, which holds no quote, backslash or control byte.
    private mutating func decodeRun(_ from: Int, _ to: Int) throws(JSONSyntaxError) -> String {
        let run = bytes[from..<to]
        if mode != .lenient, !run.allSatisfy({ $0 < 0x80 }), String(validating: run, as: UTF8.self) == nil {
            if mode == .strict { throw error("invalid UTF-8 in a string") }
            stringIsUnreadable = true
        }
        return String(decoding: run, as: UTF8.self)
    }

    private mutating func parseEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
        index += 1
        guard index < bytes.count else { throw error("unterminated string") }
        let byte = bytes[index]
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let high = try parseHex4()
            if (0xD800..<0xDC00).contains(high),
               index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") {
                index += 2
                let low = try parseHex4()
                if (0xDC00..<0xE000).contains(low),
                   let scalar = Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)) {
                    return scalar
                }
            }
            if let scalar = Unicode.Scalar(high) { return scalar }
            // A lone surrogate cannot be represented.
            if mode == .strict { throw error("unpaired surrogate in a string") }
            if mode == .decoding { stringIsUnreadable = true }
            return "\u{FFFD}"
        default:
            index -= 1
            throw error("invalid escape sequence in a string")
        }
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("invalid \\u escape in a string") }
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = bytes[index + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("invalid \\u escape in a string")
            }
            value = value << 4 | UInt32(digit)
        }
        index += 4
        return value
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> String {
        let start = index
        if peek(UInt8(ascii: "-")) { index += 1 }
        if peek(UInt8(ascii: "0")) {
            index += 1
        } else if try digits() == 0 {
            throw error("invalid number")
        }
        if peek(UInt8(ascii: ".")) {
            index += 1
            guard try digits() > 0 else { throw error("invalid number: expected digits after '.'") }
        }
        if peek(UInt8(ascii: "e")) || peek(UInt8(ascii: "E")) {
            index += 1
            if peek(UInt8(ascii: "+")) || peek(UInt8(ascii: "-")) { index += 1 }
            guard try digits() > 0 else { throw error("invalid number: expected digits in the exponent") }
        }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func digits() throws(JSONSyntaxError) -> Int {
        let start = index
        while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
        return index - start
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { throw error("unexpected \(describeCurrent())") }
        let start = literal.utf8Start
        for offset in 0..<count where bytes[index + offset] != start[offset] {
            throw error("unexpected \(describeCurrent())")
        }
        index += count
    }

    /// One level deeper, past the opening bracket (where a too deep one is refused).
    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        if depth > Self.maximumDepth { throw error("nesting is deeper than \(Self.maximumDepth) levels") }
        index += 1
    }

    private func peek(_ byte: UInt8) -> Bool {
        index < bytes.count && bytes[index] == byte
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    private func describeCurrent() -> String {
        guard index < bytes.count else { return "end of data" }
        let byte = bytes[index]
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x\(String(byte, radix: 16))"
    }

    /// An error at the current position, "... at line L, column C" (both from 1).
    private func error(_ message: String) -> JSONSyntaxError {
        var line = 1
        var lineStart = 0
        for position in 0..<min(index, bytes.count) where bytes[position] == 0x0A {
            line += 1
            lineStart = position + 1
        }
        return JSONSyntaxError(message: "\(message) at line \(line), column \(index - lineStart + 1)")
    }
}
