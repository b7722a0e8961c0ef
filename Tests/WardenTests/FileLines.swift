#if canImport(Glibc)
import Glibc
#endif

/// The lines of the file at `path`, each with its newline (none when it is missing):
/// the egress tests read the audit file the handlers under test append to.
func fileLines(_ path: String) -> [String] {
    guard let f = fopen(path, "r") else { return [] }
    defer { fclose(f) }
    var lines: [String] = []
    var buffer = [CChar](repeating: 0, count: 4096)
    while fgets(&buffer, Int32(buffer.count), f) != nil { lines.append(String(cString: buffer)) }
    return lines
}
