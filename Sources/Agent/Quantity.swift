/// The human units a policy is written in: sizes ("512Mi", "1G", "65536"), CPU counts
/// ("1.5") and durations ("30s", "5m", "1h30m", "250ms"). Each parser returns nil for
/// anything it does not accept exactly; the policy reader turns that into an error
/// naming the field.
public enum Quantity {
    /// Bytes: a plain integer, or a number with a decimal (k/K, M, G, T, optionally
    /// followed by B) or binary (Ki, Mi, Gi, Ti, optionally followed by B) suffix.
    /// Fractions are allowed with a suffix ("1.5Gi"); the result is rounded down.
    public static func bytes(_ text: String) -> UInt64? {
        let t = text.trimmingWhitespace
        let split = t.firstIndex(where: { !($0.isASCII && ($0.isNumber || $0 == ".")) }) ?? t.endIndex
        let number = String(t[..<split]), unit = String(t[split...])
        guard !number.isEmpty, let value = Double(number), value >= 0, value.isFinite else { return nil }
        let multipliers: [String: Double] = [
            "": 1, "B": 1,
            "k": 1e3, "K": 1e3, "KB": 1e3, "kB": 1e3, "M": 1e6, "MB": 1e6, "G": 1e9, "GB": 1e9, "T": 1e12, "TB": 1e12,
            "Ki": 1024, "KiB": 1024, "Mi": 1_048_576, "MiB": 1_048_576, "Gi": 1_073_741_824, "GiB": 1_073_741_824,
            "Ti": 1_099_511_627_776, "TiB": 1_099_511_627_776,
        ]
        guard let m = multipliers[unit] else { return nil }
        if unit.isEmpty || unit == "B" { guard !number.contains(".") else { return nil } }
        let result = value * m
        guard result < 9.2e18 else { return nil }
        return UInt64(result)
    }

    /// CPUs as a positive decimal number ("1", "0.5", "1.5").
    public static func cpus(_ text: String) -> Double? {
        guard let v = Double(text.trimmingWhitespace), v > 0, v.isFinite, v <= 1024 else { return nil }
        return v
    }

    /// Seconds from "250ms", "30s", "5m", "2h", "1h30m", "1m30.5s", or a plain number
    /// of seconds.
    public static func seconds(_ text: String) -> Double? {
        let t = text.trimmingWhitespace
        if let plain = Double(t) { return plain > 0 && plain.isFinite ? plain : nil }
        var total = 0.0, number = "", i = t.startIndex, sawUnit = false
        while i < t.endIndex {
            let c = t[i]
            if c.isASCII && (c.isNumber || c == ".") {
                number.append(c)
                i = t.index(after: i)
                continue
            }
            guard !number.isEmpty, let value = Double(number) else { return nil }
            let rest = t[i...]
            let unit: Double
            if rest.hasPrefix("ms") { unit = 0.001; i = t.index(i, offsetBy: 2) }
            else if c == "s" { unit = 1; i = t.index(after: i) }
            else if c == "m" { unit = 60; i = t.index(after: i) }
            else if c == "h" { unit = 3600; i = t.index(after: i) }
            else { return nil }
            total += value * unit
            number = ""
            sawUnit = true
        }
        guard sawUnit, number.isEmpty, total > 0 else { return nil }
        return total
    }

    /// The longest timeout a policy, `--timeout` or an annotation may set: the warden
    /// sleeps in poll(2), whose timeout is an int of milliseconds (at most about 596
    /// hours); 24 days stays clear of it and is longer than any sandboxed task.
    public static let maximumTimeout: Double = 24 * 24 * 3600
    public static let timeoutTooLong = "longer than the maximum of 576h (24 days)"

    /// "512Mi"-style text for a byte count (exact binary units where they fit).
    public static func describe(bytes: UInt64) -> String {
        for (unit, size) in [("Ti", UInt64(1) << 40), ("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)] where bytes >= size && bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        return "\(bytes)"
    }

    /// "90s", "1.5s", "10m" for a number of seconds.
    public static func describe(seconds: Double) -> String {
        if seconds >= 60, seconds.truncatingRemainder(dividingBy: 60) == 0 { return "\(Int(seconds / 60))m" }
        if seconds == seconds.rounded() { return "\(Int(seconds))s" }
        return "\(seconds)s"
    }
}

extension String {
    var trimmingWhitespace: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\n" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" { s = s.dropLast() }
        return String(s)
    }
}
