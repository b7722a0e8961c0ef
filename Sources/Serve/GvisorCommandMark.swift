import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// How the service stops a command in a gVisor sandbox. On the native backend the
/// command's process group is a host process group, killed from the host. Under
/// gVisor the host sees only `runsc exec`; the command's processes live in gVisor's
/// kernel, and killing `runsc exec` leaves them running. So each command gets an
/// environment variable with a mark of its own, which what it starts inherits, and a
/// stop runs a shell inside the sandbox that kills every process carrying the mark
/// (read from /proc/PID/environ there). A process that clears its environment escapes
/// the mark: it goes when the sandbox does. Needs sh, tr and grep in the image.
enum GvisorCommandMark {
    static let variable = "SAFEHOUSE_COMMAND"

    /// The argv, inside the sandbox, that kills the processes marked `mark` (nil:
    /// every marked process, for the commands a killed service left behind).
    static func killArgv(mark: String?) -> [String] {
        let match = mark.map { "grep -qx '\(variable)=\($0)'" } ?? "grep -q '^\(variable)='"
        let script = """
            for p in /proc/[0-9]*; do n=${p#/proc/}; [ "$n" = "$$" ] && continue; \
            tr '\\0' '\\n' < "$p/environ" 2>/dev/null | \(match) && kill -KILL "$n" 2>/dev/null; done; true
            """
        return ["/bin/sh", "-c", script]
    }

    /// Runs the runtime with `arguments` (an exec of `killArgv`) and waits for it.
    static func run(_ executable: String, _ arguments: [String]) {
        guard let null = try? ChildProcess.devNull() else { return }
        defer { close(null) }
        if let child = try? ChildProcess.start(executable, arguments, stdin: null, stdout: null, stderr: null) {
            _ = child.wait()
        }
    }
}
