/// The YAML that policy files use, read without a YAML library.
///
/// Why not Yams: it links Foundation (and ICU) into the runtime binary, which then
/// triples in size, and every generic type the runtime instantiates at start-up pays
/// for a scan of all the protocol conformances in the binary: `run` became 0.5 ms
/// slower for every container, sandbox or not. Policies need little of YAML:
///
/// - block mappings (`key: value`, `key:` followed by a deeper block) and block
///   sequences (`- item`, `- key: value`), indented with spaces;
/// - flow sequences and mappings (`[a, b]`, `{"k": "v"}`), which makes every JSON
///   document a policy too;
/// - plain, 'single' and "double" quoted scalars (JSON escapes), `#` comments, `---`.
///
/// Anything else (anchors, aliases, tags, block scalars, tabs for indentation, a key
/// given twice) is an error that names the line. Every scalar stays text, as with a
/// "basic" resolver; `PolicyReader` converts what a field needs. An empty value is
/// `PolicyYAML.null`.
public enum PolicyYAML {
    /// The empty value (`key:` with nothing after it, `~`, `null`).
    public struct Null: Equatable, Sendable {}
    public static let null = Null()

    public struct Error: Swift.Error, CustomStringConvertible {
        public let line: Int
        public let message: String
        public var description: String { "line \(line): \(message)" }
    }

    /// Parses a document into [String: Any], [Any], String or `null`; nil when empty.
    public static func parse(_ text: String) throws -> Any? {
        var lines: [Line] = []
        for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var s = Substring(raw)
            if s.last == "\r" { s = s.dropLast() }
            let content = try stripComment(s, line: i + 1)
            let trimmed = content.drop { $0 == " " }
            if trimmed.isEmpty { continue }
            if content.prefix(while: { $0 == " " || $0 == "\t" }).contains("\t") {
                throw Error(line: i + 1, message: "tabs are not allowed for indentation")
            }
            if content == "---" && lines.isEmpty { continue }
            if content == "..." { break }
            lines.append(Line(number: i + 1, indent: content.count - trimmed.count, text: String(trimmed)))
        }
        guard !lines.isEmpty else { return nil }
        var p = Parser(lines: lines)
        let value = try p.block(indent: lines[0].indent)
        if p.index < lines.count {
            throw Error(line: lines[p.index].number, message: "unexpected indentation")
        }
        return value
    }

    struct Line {
        let number: Int
        let indent: Int
        let text: String
    }

    /// The line without its comment: `#` at the start or after a space, outside quotes.
    static func stripComment(_ s: Substring, line: Int) throws -> Substring {
        var quote: Character?
        var previous: Character = " "
        var index = s.startIndex
        while index < s.endIndex {
            let c = s[index]
            if let q = quote {
                if c == "\\" && q == "\"" { index = s.index(after: index); if index < s.endIndex { index = s.index(after: index) }; previous = "x"; continue }
                if c == q { quote = nil }
            } else if c == "\"" || c == "'" {
                if previous == " " || previous == "[" || previous == "{" || previous == "," || previous == ":" || previous == "-" { quote = c }
            } else if c == "#" && (previous == " " || previous == "\t") {
                return trimTrailing(s[..<index])
            }
            previous = c
            index = s.index(after: index)
        }
        return trimTrailing(s)
    }

    static func trimTrailing(_ s: Substring) -> Substring {
        var t = s
        while let l = t.last, l == " " || l == "\t" { t = t.dropLast() }
        return t
    }

    /// How deep blocks and flow collections may nest: far beyond any policy, and far
    /// short of the stack a recursive descent would exhaust on "[[[[..." (a crash,
    /// not an error naming the line).
    static let maximumDepth = 64

    struct Parser {
        let lines: [Line]
        var index = 0
        var depth = 0

        /// A block mapping or sequence whose lines start at `indent`.
        mutating func block(indent: Int) throws -> Any {
            let first = lines[index]
            depth += 1
            defer { depth -= 1 }
            guard depth <= PolicyYAML.maximumDepth else {
                throw Error(line: first.number, message: "nested more than \(PolicyYAML.maximumDepth) deep")
            }
            if first.text == "-" || first.text.hasPrefix("- ") { return try sequence(indent: indent) }
            if first.text.hasPrefix("[") || first.text.hasPrefix("{") || first.text.hasPrefix("\"") && !first.text.contains("\":") {
                return try flowDocument()
            }
            return try mapping(indent: indent)
        }

        /// A flow value that may span several lines (a JSON document).
        mutating func flowDocument() throws -> Any {
            let start = lines[index].number
            var text = ""
            while index < lines.count { text += lines[index].text + "\n"; index += 1 }
            var f = Flow(text: Array(text.unicodeScalars), line: start)
            return try f.whole()
        }

        mutating func mapping(indent: Int) throws -> [String: Any] {
            var result: [String: Any] = [:]
            while index < lines.count, lines[index].indent == indent {
                let line = lines[index]
                if line.text.hasPrefix("- ") || line.text == "-" {
                    throw Error(line: line.number, message: "a list item where a key was expected")
                }
                let (key, rest) = try splitKey(line)
                guard result[key] == nil else { throw Error(line: line.number, message: "a key is given twice") }
                index += 1
                if rest.isEmpty {
                    if index < lines.count, lines[index].indent > indent {
                        result[key] = try block(indent: lines[index].indent)
                    } else if index < lines.count, lines[index].indent == indent, lines[index].text.hasPrefix("- ") || lines[index].text == "-" {
                        result[key] = try sequence(indent: indent)
                    } else {
                        result[key] = PolicyYAML.null
                    }
                } else {
                    result[key] = try inline(rest, line: line.number)
                }
            }
            if index < lines.count, lines[index].indent > indent {
                throw Error(line: lines[index].number, message: "unexpected indentation")
            }
            return result
        }

        mutating func sequence(indent: Int) throws -> [Any] {
            var result: [Any] = []
            while index < lines.count, lines[index].indent == indent, lines[index].text == "-" || lines[index].text.hasPrefix("- ") {
                let line = lines[index]
                let rest = String(line.text.dropFirst(1).drop { $0 == " " })
                index += 1
                if rest.isEmpty {
                    if index < lines.count, lines[index].indent > indent {
                        result.append(try block(indent: lines[index].indent))
                    } else {
                        result.append(PolicyYAML.null)
                    }
                } else if rest.hasPrefix("- ") || (try? splitKey(Line(number: line.number, indent: 0, text: rest))) != nil && !rest.hasPrefix("\"") && !rest.hasPrefix("'") && !rest.hasPrefix("[") && !rest.hasPrefix("{") {
                    // "- key: value" opens a mapping at the column after "- ".
                    let column = indent + (line.text.count - rest.count)
                    index -= 1
                    var nested = lines
                    nested[index] = Line(number: line.number, indent: column, text: rest)
                    var p = Parser(lines: nested, index: index, depth: depth)
                    result.append(try p.block(indent: column))
                    index = p.index
                } else {
                    result.append(try inline(rest, line: line.number))
                }
            }
            return result
        }

        /// "key: rest" → (key, rest); the key may be quoted.
        func splitKey(_ line: Line) throws -> (String, String) {
            let t = line.text
            var key: String
            var after: Substring
            if let q = t.first, q == "\"" || q == "'" {
                var f = Flow(text: Array(t.unicodeScalars), line: line.number)
                key = try f.quoted()
                after = Substring(Flow.string(f.text[f.position...]))
            } else {
                guard let colon = Self.keyColon(in: t) else {
                    throw Error(line: line.number, message: "expected \"key: value\"")
                }
                key = String(t[..<colon])
                after = t[colon...]
                try checkPlain(key, line: line.number)
            }
            guard after.first == ":" else { throw Error(line: line.number, message: "expected \":\" after the key") }
            after = after.dropFirst()
            guard after.isEmpty || after.first == " " else { throw Error(line: line.number, message: "expected a space after \":\"") }
            return (key, String(after.drop { $0 == " " }))
        }

        /// The ":" that ends a plain key: the first one followed by a space, or last.
        static func keyColon(in t: String) -> String.Index? {
            var i = t.startIndex
            while i < t.endIndex {
                if t[i] == ":" {
                    let next = t.index(after: i)
                    if next == t.endIndex || t[next] == " " { return i }
                }
                i = t.index(after: i)
            }
            return nil
        }

        func inline(_ text: String, line: Int) throws -> Any {
            if text.hasPrefix("|") || text.hasPrefix(">") {
                throw Error(line: line, message: "block scalars (| and >) are not supported in policies")
            }
            if let first = text.first, first == "[" || first == "{" || first == "\"" || first == "'" {
                var f = Flow(text: Array(text.unicodeScalars), line: line)
                return try f.whole()
            }
            try checkPlain(text, line: line)
            return text == "~" || text == "null" ? PolicyYAML.null : text
        }

        func checkPlain(_ text: String, line: Int) throws {
            if let c = text.first, "&*!%@`".contains(c) {
                throw Error(line: line, message: "anchors, aliases, tags and directives are not supported in policies")
            }
            if Self.keyColon(in: text).map({ text.index(after: $0) != text.endIndex }) ?? false {
                throw Error(line: line, message: "a value may not contain \": \" unless quoted")
            }
        }
    }

    /// Flow values: [a, b], {k: v}, quoted and plain scalars.
    struct Flow {
        let text: [Unicode.Scalar]
        var position = 0
        var line: Int
        var depth = 0

        /// Scalar by scalar: String.UnicodeScalarView(slice) is the generic
        /// append(contentsOf:), whose first use has the Swift runtime scan every
        /// protocol conformance of this static binary (perf: 0.1 ms of a policy read).
        static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
            var view = String.UnicodeScalarView()
            for c in scalars { view.append(c) }
            return String(view)
        }

        init(text: [Unicode.Scalar], line: Int) {
            self.text = text
            self.line = line
        }

        var atEnd: Bool { position >= text.count }

        mutating func skipSpace() {
            while position < text.count, text[position] == " " || text[position] == "\n" || text[position] == "\t" || text[position] == "\r" {
                if text[position] == "\n" { line += 1 }
                position += 1
            }
        }

        func error(_ m: String) -> Error { Error(line: line, message: m) }

        /// A value that is all of the text (spaces and newlines around it aside).
        mutating func whole() throws -> Any {
            let v = try value()
            skipSpace()
            guard atEnd else { throw error("unexpected text after the value") }
            return v
        }

        mutating func value() throws -> Any {
            skipSpace()
            guard position < text.count else { throw error("a value is missing") }
            depth += 1
            defer { depth -= 1 }
            guard depth <= PolicyYAML.maximumDepth else { throw error("nested more than \(PolicyYAML.maximumDepth) deep") }
            switch text[position] {
            case "[":
                position += 1
                var items: [Any] = []
                skipSpace()
                if position < text.count, text[position] == "]" { position += 1; return items }
                while true {
                    items.append(try value())
                    skipSpace()
                    guard position < text.count else { throw error("unclosed [") }
                    if text[position] == "," { position += 1; continue }
                    if text[position] == "]" { position += 1; return items }
                    throw error("expected , or ] in a list")
                }
            case "{":
                position += 1
                var map: [String: Any] = [:]
                skipSpace()
                if position < text.count, text[position] == "}" { position += 1; return map }
                while true {
                    skipSpace()
                    guard let key = try value() as? String else { throw error("a mapping key must be text") }
                    skipSpace()
                    guard position < text.count, text[position] == ":" else { throw error("expected : after a key") }
                    position += 1
                    guard map[key] == nil else { throw error("a key is given twice") }
                    map[key] = try value()
                    skipSpace()
                    guard position < text.count else { throw error("unclosed {") }
                    if text[position] == "," { position += 1; continue }
                    if text[position] == "}" { position += 1; return map }
                    throw error("expected , or } in a mapping")
                }
            case "\"", "'":
                return try quoted()
            default:
                let start = position
                while position < text.count, !",]}:\n".unicodeScalars.contains(text[position]) { position += 1 }
                var s = Flow.string(text[start..<position])
                while s.last == " " { s.removeLast() }
                if s.isEmpty { throw error("a value is missing") }
                if let c = s.first, "&*!%@`|>".contains(c) { throw error("anchors, aliases, tags and block scalars are not supported in policies") }
                return s == "~" || s == "null" ? PolicyYAML.null : s
            }
        }

        /// A "double" (JSON escapes) or 'single' ('' is a quote) quoted scalar.
        mutating func quoted() throws -> String {
            let q = text[position]
            position += 1
            var out = String.UnicodeScalarView()
            while position < text.count {
                let c = text[position]
                position += 1
                if c == "\n" { throw error("a quoted value may not span lines in a policy") }
                if q == "'" {
                    if c == "'" {
                        if position < text.count, text[position] == "'" { out.append("'"); position += 1; continue }
                        return String(out)
                    }
                    out.append(c)
                    continue
                }
                if c == "\"" { return String(out) }
                if c != "\\" { out.append(c); continue }
                guard position < text.count else { break }
                let e = text[position]
                position += 1
                switch e {
                case "\"": out.append("\"")
                case "\\": out.append("\\")
                case "/": out.append("/")
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "r": out.append("\r")
                case "b": out.append("\u{8}")
                case "f": out.append("\u{c}")
                case "0": out.append("\0")
                case "u":
                    guard position + 4 <= text.count,
                          let v = UInt32(String(String.UnicodeScalarView(text[position..<position + 4])), radix: 16),
                          let scalar = Unicode.Scalar(v) else { throw error("bad \\u escape") }
                    out.append(scalar)
                    position += 4
                default: throw error("an unknown escape")
                }
            }
            throw error("unclosed quote")
        }
    }
}
