import Agent
import AuditChain
import Linux
import OCI
import Runtime
#if canImport(Glibc)
import Glibc
#endif

/// Audit does not fail open: before a sandbox is made, its log must be writable (a
/// regular file in a directory that can be written, on a filesystem with room, not
/// torn, not cut behind its head). Otherwise the sandbox does not start, unless its
/// policy says `audit: best-effort`: then it starts and says it runs without audit.
///
/// Checked here, in the runtime, before any side effect (the sandbox treatment is
/// worked out before the fork), because the records themselves are appended by
/// safehouse-audit without waiting (AuditSink): a failure there could only warn.
enum AuditPreflight {
    /// Below this much free space a sandbox's records (a few hundred bytes each, the
    /// change set up to some tens of kB) would not fit: treated as a full filesystem.
    static let minimumFreeBytes: UInt64 = 64 << 10

    /// Throws a one-line error naming the log, unless `bestEffort`, which only warns.
    static func check(_ path: String, key: String?, id: String, bestEffort: Bool) throws {
        guard let problem = problem(path) ?? key.flatMap(keyProblem) ?? macProblem(path, key: key, id: id) else { return }
        if bestEffort {
            writeStderr("safehouse: warning: audit log \(path): \(problem); the sandbox runs without audit (audit: best-effort)\n")
            return
        }
        throw RuntimeError("audit log \(path): \(problem); the sandbox does not start without its audit log (a policy may say audit: best-effort)")
    }

    /// Why the log at `path` cannot take a sandbox's records; nil when it can.
    static func problem(_ path: String) -> String? {
        let dir = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !dir.isEmpty, !Files.isDirectory(dir) {
            do { try Files.makeDirectories(dir) } catch { return "cannot make its directory: \(error)" }
        }
        // A log that is not there yet is not made here (a create that fails later must
        // leave nothing): its directory must take a new file instead.
        var st = stat()
        if lstat(path, &st) != 0 {
            guard errno == ENOENT else { return "cannot stat it: \(SystemError.message(for: errno))" }
            if Files.exists(path + ".head") {
                return "missing, but its head (\(path).head) says it had records: it was removed (a log moved away takes its .head with it)"
            }
            let parent = dir.isEmpty ? "/" : dir
            guard access(parent, W_OK) == 0 else { return "cannot create it: \(SystemError.message(for: errno))" }
            return spaceProblem(statvfsOf: parent)
        }
        let fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else { return "cannot open it for writing: \(SystemError.message(for: errno))" }
        defer { close(fd) }
        guard fstat(fd, &st) == 0 else { return "fstat: \(SystemError.message(for: errno))" }
        guard (st.st_mode & S_IFMT) == S_IFREG else { return "not a regular file" }
        return spaceProblem(statvfsOf: path) ?? tailProblem(path)
    }

    /// A key file every append would fail to read (safehouse-audit needs 16 bytes or more).
    static func keyProblem(_ key: String) -> String? {
        var st = stat()
        guard stat(key, &st) == 0 else { return "its key \(key): \(SystemError.message(for: errno))" }
        guard (st.st_mode & S_IFMT) == S_IFREG, access(key, R_OK) == 0 else { return "its key \(key): not a readable file" }
        return st.st_size < 16 ? "its key \(key): \(st.st_size) bytes; a key needs at least 16" : nil
    }

    /// A head with a MAC is checked (AuditLog.checkAppendable, every check an append
    /// makes): a head forged, MACed with another key, or a key file that cannot be
    /// read, would refuse every append of the sandbox. A log without a head (a new one,
    /// the usual per-sandbox log) costs nothing more.
    static func macProblem(_ path: String, key: String?, id: String) -> String? {
        // Bytes compared in a loop: String.contains(String) builds a search table whose
        // first use scans every protocol conformance of this static binary (perf).
        let mac = Array("\"mac\":".utf8)
        guard let head = try? Files.read(path + ".head", limit: 4096),
              key != nil || (0..<max(0, head.count - mac.count + 1)).contains(where: { head[$0..<$0 + mac.count].elementsEqual(mac) })
        else { return nil }
        do {
            try AuditLog(path: path, key: key.map(AuditLog.readKey)).checkAppendable(id: id, kind: "create")
            return nil
        } catch {
            // The path, which the caller's line already names, once.
            var line = "\(error)"
            if line.hasPrefix(path + ": ") { line.removeFirst(path.count + 2) }
            return line
        }
    }

    /// A filesystem too full for a sandbox's records.
    static func spaceProblem(statvfsOf path: String) -> String? {
        var fs = statvfs()
        guard statvfs(path, &fs) == 0 else { return nil }
        let free = UInt64(fs.f_bavail) * UInt64(fs.f_frsize)
        return free < minimumFreeBytes ? "no space left on its filesystem (\(free) bytes free)" : nil
    }

    /// A torn last line, or a log shorter than its head says (read without the key:
    /// safehouse-audit checks the head's MAC before it appends; this only keeps a
    /// sandbox from starting on a log every append would refuse).
    static func tailProblem(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { return "cannot read it: \(SystemError.message(for: errno))" }
        defer { close(fd) }
        // Shared, as `audit verify` reads: another sandbox appending to the same log
        // must not be caught between its line and its head (a head ahead of the tail
        // read would look like a cut).
        while flock(fd, LOCK_SH) != 0 {
            guard errno == EINTR else { return "cannot lock it: \(SystemError.message(for: errno))" }
        }
        var st = stat()
        guard fstat(fd, &st) == 0 else { return "fstat: \(SystemError.message(for: errno))" }
        let size = Int64(st.st_size)
        let head = try? Files.read(path + ".head", limit: 4096)
        if size == 0 {
            return head == nil ? nil : "empty, but its head (\(path).head) says it had records: it was cut (a log moved away takes its .head with it)"
        }
        // The last line fits in this unless it is a very large change set; then only
        // the torn check is made.
        let window = Int(min(size, 64 << 10))
        var tail = [UInt8](repeating: 0, count: window)
        let n = tail.withUnsafeMutableBytes { pread(fd, $0.baseAddress, window, off_t(size) - off_t(window)) }
        guard n == window else { return "cannot read it: \(n < 0 ? SystemError.message(for: errno) : "short read")" }
        guard tail.last == UInt8(ascii: "\n") else { return "its last line is torn (no newline at its end; `safehouse audit verify` reports it)" }
        guard let head, let headObject = FlatJSONObject(parsing: head.last == 10 ? Array(head.dropLast()) : head),
              let headCount = headObject.uint64("count") else { return nil }
        let body = tail.dropLast()
        guard let start = body.lastIndex(of: UInt8(ascii: "\n")).map({ body.index(after: $0) }) ?? (window == size ? 0 : nil),
              let last = FlatJSONObject(parsing: Array(body[start...])), let seq = last.uint64("seq") else { return nil }
        if seq + 1 < headCount {
            return "cut: its head (\(path).head) says \(headCount) records, the log ends at \(seq + 1)"
        }
        return nil
    }
}
