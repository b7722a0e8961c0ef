/// The value syntaxes runc's flags accept, so that scripts written for runc pass the
/// same strings: memory sizes with unit suffixes (docker/go-units RAMInBytes) and
/// durations in Go's `time.ParseDuration` form.
enum ValueSyntax {
    /// A memory size as runc's `update` reads it: "-1" (unlimited), or a decimal number
    /// with an optional binary unit, k/m/g/t/p in either case, optionally followed by
    /// "i" and/or "b" ("50M", "50m", "50MiB", "1.5g", "512", "64 KB"). Fractions are
    /// truncated to whole bytes, as go-units does.
    static func memorySize(_ text: String, field: String) throws -> Int64 {
        if text == "-1" { return -1 }
        let invalid = CLIError("\(field): invalid size \"\(text)\" (a number of bytes with an optional unit: 50M, 1.5g, 512k, or -1)")
        var chars = Array(text.unicodeScalars)
        // Suffix: [kmgtp]?i?b?, case-insensitive, optionally after one space.
        var multiplier: Double = 1
        if let last = chars.last, last == "b" || last == "B" { chars.removeLast() }
        if let last = chars.last, last == "i" || last == "I" { chars.removeLast() }
        let units: [String: Double] = ["k": 0x1p10, "m": 0x1p20, "g": 0x1p30, "t": 0x1p40, "p": 0x1p50]
        if let last = chars.last, let unit = units[String(last).lowercased()] {
            multiplier = unit
            chars.removeLast()
        }
        if chars.last == " " { chars.removeLast() }
        // The number: digits, with at most one fractional part.
        let number = String(String.UnicodeScalarView(chars))
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard !number.isEmpty, parts.count <= 2,
              parts.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy { $0.properties.numericType == .decimal && $0.isASCII } }),
              let value = Double(number) else { throw invalid }
        let bytes = value * multiplier
        guard bytes < 0x1p63 else { throw CLIError("\(field): size \"\(text)\" is too large") }
        return Int64(bytes)
    }

    /// A Go duration ("100ms", "1.5s", "2m30s", "1h"), in seconds. Units: ns, us (µs,
    /// μs), ms, s, m, h; a unit is required on every number except a lone "0". A bare
    /// number is also taken as seconds (safehouse's older `--interval 5`).
    static func duration(_ text: String) -> Double? {
        if let seconds = Double(text), text.unicodeScalars.allSatisfy({ $0.isASCII && ($0 == "." || $0.properties.numericType == .decimal) }) {
            return seconds
        }
        var scalars = Substring(text).unicodeScalars[...]
        var sign = 1.0
        if let first = scalars.first, first == "-" || first == "+" {
            sign = first == "-" ? -1 : 1
            scalars = scalars.dropFirst()
        }
        guard !scalars.isEmpty else { return nil }
        let units: [(String, Double)] = [
            ("ns", 1e-9), ("us", 1e-6), ("\u{00B5}s", 1e-6), ("\u{03BC}s", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600),
        ]
        var total = 0.0
        while !scalars.isEmpty {
            let numberEnd = scalars.firstIndex { !($0 == "." || ($0.isASCII && $0.properties.numericType == .decimal)) } ?? scalars.endIndex
            let number = String(String.UnicodeScalarView(scalars[..<numberEnd]))
            guard number != "." && !number.isEmpty, number.filter({ $0 == "." }).count <= 1,
                  let value = Double(number.hasPrefix(".") ? "0" + number : (number.hasSuffix(".") ? number + "0" : number)) else { return nil }
            scalars = scalars[numberEnd...]
            let unitEnd = scalars.firstIndex { $0 == "." || ($0.isASCII && $0.properties.numericType == .decimal) } ?? scalars.endIndex
            let unit = String(String.UnicodeScalarView(scalars[..<unitEnd]))
            guard let factor = units.first(where: { $0.0 == unit })?.1 else { return nil }
            total += value * factor
            scalars = scalars[unitEnd...]
        }
        return sign * total
    }
}

/// A usage error with the field in its text, printed as one line (exit 1, as runc's
/// usage errors).
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
