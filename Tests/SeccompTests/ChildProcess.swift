import Linux
import Seccomp
#if canImport(Glibc)
import Glibc
#endif

/// Seccomp filters are loaded only in forked children: a filter cannot be removed, and
/// one loaded in the test process would apply to every later test.
enum ChildProcess {
    /// Runs `body` in a forked child that exits with its result; returns how it ended.
    static func run(_ body: () -> Int32) throws -> ExitStatus {
        try Processes.wait(start(body))
    }

    /// Starts `body` in a forked child that exits with its result; returns its pid.
    static func start(_ body: () -> Int32) throws -> Int32 {
        let pid = try Processes.fork()
        if pid == 0 {
            // Armed before any filter: a filter that blocked exit would hang the suite.
            alarm(20)
            _exit(body())
        }
        return pid
    }

    /// Exit code of a child whose filter did not load.
    static let loadFailed: Int32 = 100

    /// Loads `program` in a forked child, then runs `body` there.
    static func run(with program: SeccompProgram, _ body: () -> Int32) throws -> ExitStatus {
        try run {
            do { _ = try program.load() } catch { return loadFailed }
            return body()
        }
    }
}
