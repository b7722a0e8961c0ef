import Linux

/// A deadline kept by whoever enforces it in place of the warden: the sandbox service
/// gives every sandbox's warden a far-out deadline and deletes the sandbox itself at the
/// one its client asked for (and moved with set_timeout). It writes that deadline here,
/// beside the bundle's config.json, so that readers knowing only the runtime's state
/// (`safehouse top`, /metrics) show the time that is really left.
public enum ServiceDeadline {
    public static let fileName = "safehouse-deadline"

    /// Seconds since the epoch, one decimal number and a newline.
    public static func text(_ secondsSinceEpoch: Double) -> String {
        String(Int64(secondsSinceEpoch.rounded(.up))) + "\n"
    }

    /// The deadline written in `bundle`, or nil when there is none (or it is not a number).
    public static func read(bundle: String) -> Double? {
        guard let bytes = try? Files.read(bundle + "/" + fileName), bytes.count <= 32 else { return nil }
        let text = String(decoding: bytes, as: UTF8.self).trimmingSpaces
        guard let value = Int64(text), value > 0 else { return nil }
        return Double(value)
    }
}

private extension String {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\n" || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\n" || c == "\t" { s.removeLast() }
        return String(s)
    }
}
