import CLinux
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The field's tools the image store runs (skopeo to fetch; gzip or zstd to
/// decompress a layer and sha256sum to check its digest, both streaming through pipes):
/// started with posix_spawn, their stderr kept in an unlinked temporary file, their
/// failure turned into one line naming the tool and what it said last.
struct ExternalTool {
    let executable: String
    let pid: pid_t
    private let stderr: FileDescriptor
    private let capturedStdout: FileDescriptor?

    /// Starts `args` (argv[0] included) from `executable` with the caller's environment
    /// (a user's registries and credentials reach skopeo). `stdin` and `stdout` are
    /// descriptors for the tool's (nil: /dev/null in, and out captured for `finish`).
    static func start(_ executable: String, _ args: [String], scratch: String, stdin: Int32? = nil, stdout: Int32? = nil) throws -> ExternalTool {
        guard access(executable, X_OK) == 0 else {
            throw ImageError("\(executable) is not installed (hack/setup installs it)")
        }
        let captured = stdout == nil ? try unlinkedFile(in: scratch) : nil
        let err = try unlinkedFile(in: scratch)
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = inheritedEnvironment().map { strdup($0) } + [nil]
        defer { for p in cArgs + cEnv { free(p) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let stdin { posix_spawn_file_actions_adddup2(&actions, stdin, 0) } else { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        posix_spawn_file_actions_adddup2(&actions, stdout ?? captured!.rawValue, 1)
        posix_spawn_file_actions_adddup2(&actions, err.rawValue, 2)
        _ = sh_spawn_addclosefrom(&actions, 3)
        // A decompressor whose reader stopped (a refused layer) must die of SIGPIPE.
        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, &attr, &cArgs, &cEnv)
        guard rc == 0 else { throw ImageError("\(executable): \(SystemError.message(for: rc))") }
        return ExternalTool(executable: executable, pid: pid, stderr: err, capturedStdout: captured)
    }

    /// Waits for the tool; its captured output, or an error (`what` failed: the tool's
    /// exit and its last line of stderr) unless it exited 0.
    @discardableResult
    func finish(what: String) throws -> [UInt8] {
        let status: Int32
        switch Spawn.wait(pid) {
        case .success(let s): status = s
        case .failure(let e): throw ImageError("\(what): \(e)")
        }
        guard status == 0 else {
            let said = String(decoding: try Self.contents(stderr), as: UTF8.self).split(separator: "\n").last.map(String.init) ?? "no message"
            let name = executable.split(separator: "/").last.map(String.init) ?? executable
            throw ImageError("\(what): \(name) exited \(ExitStatus(waitStatus: status).shellCode): \(said)")
        }
        return try capturedStdout.map(Self.contents) ?? []
    }

    /// Runs the tool to its end and fails unless it exits 0; its output.
    static func check(_ executable: String, _ args: [String], scratch: String, what: String) throws -> [UInt8] {
        try start(executable, args, scratch: scratch).finish(what: what)
    }

    private static func unlinkedFile(in directory: String) throws -> FileDescriptor {
        var template = Array((directory + "/output-XXXXXX").utf8CString)
        let fd = try syscall("mkstemp", directory) { mkstemp(&template) }
        unlink(template)
        let file = FileDescriptor(adopting: fd)
        try file.setCloseOnExec(true)
        return file
    }

    private static func contents(_ fd: FileDescriptor) throws -> [UInt8] {
        _ = lseek(fd.rawValue, 0, SEEK_SET)
        return try fd.readAll(limit: 16 << 20)
    }

    private static func inheritedEnvironment() -> [String] {
        var out: [String] = []
        var p = environ
        while let entry = p.pointee {
            out.append(String(cString: entry))
            p += 1
        }
        return out
    }
}
