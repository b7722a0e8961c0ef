/// Text from a sandbox (file names, host names, reasons) made safe to print on a line
/// of a terminal or a log that is read line by line.
///
/// A file name may hold any byte but "/" and NUL: a newline in it forges a line of
/// the summary, a carriage return overwrites one, ESC starts a sequence that moves the
/// cursor, retitles the window or worse. So every control character (C0, DEL and the
/// C1 range, which some terminals take as CSI and friends) is written as an escape,
/// and the backslash too, so an escape in the output is always ours and the
/// original can be told back: `a\nb` is a newline, `a\\nb` a backslash then "nb".
public enum TerminalText {
    public static func escaped(_ text: String) -> String {
        if !text.unicodeScalars.contains(where: needsEscape) { return text }
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{1B}": out += "\\e"
            default:
                if needsEscape(scalar) {
                    let hex = String(scalar.value, radix: 16)
                    out += scalar.value < 0x100 ? "\\x" + String(repeating: "0", count: 2 - hex.count) + hex
                                               : "\\u{" + hex + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out
    }

    /// C0 controls, DEL, C1 controls, the backslash, and the line and paragraph
    /// separators (U+2028, U+2029) that some viewers break lines at.
    static func needsEscape(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || s.value == 0x5C || (s.value >= 0x7F && s.value <= 0x9F) || s.value == 0x2028 || s.value == 0x2029
    }
}
