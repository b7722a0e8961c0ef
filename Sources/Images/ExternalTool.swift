import CLinux
import Linux
#if canImport(Glibc)
import Glibc
#endif

/// The field's tools the image store runs (skopeo to fetch, sha256sum to check a
/// layer's digest): started with posix_spawn, their output captured in unlinked
/// temporary files, their failure turned into one line naming the tool and what it
/// said last.
enum ExternalTool {
    struct Output {
        var status: Int32
        var stdout: [UInt8]
        var stderr: String
    }

    /// Runs `args` (argv[0] included) from `executable` with `environment` (nil: the
    /// caller's own, so a user's registries.conf and credentials reach skopeo).
    /// `stdoutPath`: the tool's output goes to that file (made or truncated) instead
    /// of being captured.
    static func run(_ executable: String, _ args: [String], scratch: String, environment: [String]? = nil,
                    stdoutPath: String? = nil) throws -> Output {
        guard access(executable, X_OK) == 0 else {
            throw ImageError("\(executable) is not installed (hack/setup installs it)")
        }
        let out = try stdoutPath.map { try FileDescriptor.open($0, O_RDWR | O_CREAT | O_TRUNC | O_NOFOLLOW, mode: 0o600) } ?? unlinkedFile(in: scratch)
        let err = try unlinkedFile(in: scratch)
        var cArgs: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        var cEnv: [UnsafeMutablePointer<CChar>?] = (environment ?? inheritedEnvironment()).map { strdup($0) } + [nil]
        defer { for p in cArgs + cEnv { free(p) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, out.rawValue, 1)
        posix_spawn_file_actions_adddup2(&actions, err.rawValue, 2)
        _ = sh_spawn_addclosefrom(&actions, 3)
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, executable, &actions, nil, &cArgs, &cEnv)
        guard rc == 0 else { throw ImageError("\(executable): \(SystemError.message(for: rc))") }
        let status: Int32
        switch Spawn.wait(pid) {
        case .success(let s): status = s
        case .failure(let e): throw ImageError("\(executable): \(e)")
        }
        return Output(status: status, stdout: stdoutPath == nil ? try contents(out) : [], stderr: String(decoding: try contents(err), as: UTF8.self))
    }

    /// Runs the tool and fails unless it exits 0, with its last line of stderr.
    static func check(_ executable: String, _ args: [String], scratch: String, what: String, stdoutPath: String? = nil) throws -> [UInt8] {
        let output = try run(executable, args, scratch: scratch, stdoutPath: stdoutPath)
        guard output.status == 0 else {
            let said = output.stderr.split(separator: "\n").last.map(String.init) ?? "no message"
            let code = ExitStatus(waitStatus: output.status).shellCode
            throw ImageError("\(what): \(executable.split(separator: "/").last.map(String.init) ?? executable) exited \(code): \(said)")
        }
        return output.stdout
    }

    private static func unlinkedFile(in directory: String) throws -> FileDescriptor {
        var template = Array((directory + "/output-XXXXXX").utf8CString)
        let fd = try syscall("mkstemp", directory) { mkstemp(&template) }
        unlink(template)
        return FileDescriptor(adopting: fd)
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
