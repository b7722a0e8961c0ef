import Linux

/// The table `safehouse top` prints, laid out for a width: every column when it
/// fits; on a narrow terminal the least needed columns are left out (the id, memory,
/// tasks and CPU stay longest), then the id is cut. Pure: samples and a width in,
/// lines out, so the layout is tested without a terminal.
public struct TopTable: Sendable {
    public struct Column: Sendable {
        public let title: String
        /// Lower stays longer when the width runs short.
        let keep: Int
        let rightAligned: Bool
        let value: @Sendable (SandboxSample, Double) -> String
    }

    /// In the order shown.
    public static let columns: [Column] = [
        Column(title: "ID", keep: 0, rightAligned: false) { s, _ in s.id },
        Column(title: "POLICY", keep: 10, rightAligned: false) { s, _ in TerminalText.escaped(s.policy) },
        Column(title: "BACKEND", keep: 11, rightAligned: false) { s, _ in s.backend },
        Column(title: "STATE", keep: 4, rightAligned: false) { s, _ in s.state.rawValue },
        Column(title: "AGE", keep: 6, rightAligned: true) { s, now in s.age(at: now).map(Format.duration) ?? "-" },
        Column(title: "LEFT", keep: 5, rightAligned: true) { s, _ in s.secondsLeft.map { Format.duration(max(0, $0)) } ?? "-" },
        Column(title: "CPU%", keep: 3, rightAligned: true) { s, _ in s.cpuPercent.map { Format.percent($0) } ?? "-" },
        Column(title: "MEM/LIMIT", keep: 1, rightAligned: true) { s, _ in
            guard s.hasCgroups else { return "-" }
            return Format.bytes(s.usage.memoryBytes) + "/" + (s.usage.memoryLimit.map(Format.bytes) ?? "none")
        },
        Column(title: "PIDS", keep: 2, rightAligned: true) { s, _ in
            guard s.hasCgroups else { return "-" }
            return String(s.usage.pids) + "/" + (s.usage.pidsLimit.map { String($0) } ?? "none")
        },
        Column(title: "EGRESS OK/NO", keep: 7, rightAligned: true) { s, _ in
            if s.egressUnavailable != nil { return "n/a" }
            return "\(s.egress.allowed)/\(s.egress.refused)" + (s.egress.capped ? "+" : "")
        },
        Column(title: "BYTES UP/DOWN", keep: 8, rightAligned: true) { s, _ in
            if s.egressUnavailable != nil { return "n/a" }
            let text = Format.bytes(s.egress.bytesUp) + "/" + Format.bytes(s.egress.bytesDown)
            return s.egress.recordsWithoutBytes > 0 ? text + "*" : text
        },
        Column(title: "ROOT+", keep: 9, rightAligned: true) { s, _ in s.rootChanges.map { Format.bytes($0.bytes) } ?? "-" },
    ]

    /// The shortest an id is cut to.
    static let minimumIDWidth = 8
    static let gap = 2

    public let lines: [String]
    /// Titles of the columns left out for want of width.
    public let hidden: [String]
    /// Notes the figures need (records without bytes, capped decisions, logs that
    /// cannot be read), one line each.
    public let notes: [String]

    /// `width`: nil for no limit (a pipe or a file).
    public init(_ samples: [SandboxSample], width: Int?, now: Double) {
        let cells = samples.map { s in Self.columns.map { $0.value(s, now) } }
        var widths = Self.columns.indices.map { i in cells.reduce(Self.columns[i].title.count) { max($0, $1[i].count) } }
        var shown = Array(Self.columns.indices)
        func total() -> Int { shown.reduce(0) { $0 + widths[$1] } + Self.gap * max(0, shown.count - 1) }
        if let width {
            while total() > width, shown.count > 1 {
                let drop = shown.max { Self.columns[$0].keep < Self.columns[$1].keep }!
                shown.removeAll { $0 == drop }
            }
            if total() > width { widths[0] = max(Self.minimumIDWidth, widths[0] - (total() - width)) }
        }
        func line(_ values: [String]) -> String {
            var parts: [String] = []
            for i in shown {
                var v = values[i]
                if v.count > widths[i] { v = String(v.prefix(max(1, widths[i] - 1))) + "~" }
                let pad = String(repeating: " ", count: widths[i] - v.count)
                parts.append(Self.columns[i].rightAligned ? pad + v : v + pad)
            }
            var text = parts.joined(separator: String(repeating: " ", count: Self.gap))
            while text.hasSuffix(" ") { text.removeLast() }
            if let width, text.count > width { text = String(text.prefix(width)) }
            return text
        }
        lines = [line(Self.columns.map(\.title))] + cells.map(line)
        hidden = Self.columns.indices.filter { !shown.contains($0) }.map { Self.columns[$0].title }
        var notes: [String] = []
        if samples.contains(where: { $0.egress.recordsWithoutBytes > 0 }) {
            notes.append("* some egress records carry no byte counts: the bytes leave those connections out")
        }
        if samples.contains(where: { $0.egress.capped }) {
            notes.append("+ the warden stopped recording decisions at its cap: the counts are a floor")
        }
        for s in samples {
            if let why = s.egressUnavailable { notes.append("\(s.id): egress n/a: \(TerminalText.escaped(why))") }
            if let log = s.auditLogPending { notes.append("\(s.id): no audit log yet (\(TerminalText.escaped(log))): no egress so far") }
        }
        self.notes = notes
    }
}

/// Figures as the table writes them.
public enum Format {
    /// Binary units, as top(1): 512B, 1.5K, 12K, 3.4M, 1.0G.
    public static func bytes(_ n: UInt64) -> String {
        if n < 1024 { return "\(n)B" }
        let units = ["K", "M", "G", "T", "P"]
        var value = Double(n) / 1024, i = 0
        while value >= 1024, i < units.count - 1 { value /= 1024; i += 1 }
        return (value < 10 ? decimal(value, 1) : String(Int(value.rounded(.down)))) + units[i]
    }

    /// 45s, 3m12s, 1h04m, 2d03h.
    public static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.down))
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(two(s % 60))s" }
        if s < 86400 { return "\(s / 3600)h\(two(s % 3600 / 60))m" }
        return "\(s / 86400)d\(two(s % 86400 / 3600))h"
    }

    public static func percent(_ p: Double) -> String { decimal(p, 1) }

    static func decimal(_ value: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let n = Int64((value * scale).rounded())
        let whole = n / Int64(scale), frac = String(n % Int64(scale))
        return "\(whole)." + String(repeating: "0", count: digits - frac.count) + frac
    }
}
