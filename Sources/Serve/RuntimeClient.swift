import Foundation

/// Drives sandboxes by running the `safehouse` binary: the runtime is single-threaded
/// and forks, so this process (NIO threads) never links it; Foundation's Process
/// spawns (posix_spawn), it does not fork Swift code.
struct RuntimeClient {
    let executable: String
    let root: String

    /// The sandbox's init: idle until SIGTERM, so the sandbox lives across commands.
    /// Needs /bin/sh and sleep in the image.
    static let idleInit = ["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 3600 & wait; done"]

    struct Output {
        var status: Int32
        var stdout: Data
        var stderr: String
        /// The last line of stderr without the "safehouse: " prefix: the runtime's error.
        var errorLine: String {
            let line = stderr.split(whereSeparator: \.isNewline).last.map(String.init) ?? "exit status \(status)"
            return line.hasPrefix("safehouse: ") ? String(line.dropFirst("safehouse: ".count)) : line
        }
    }

    /// Runs `safehouse ARGS` to completion and returns its status and output.
    func run(_ arguments: [String], withRoot: Bool = true) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = (withRoot ? ["--root", root] : []) + arguments
        // Output goes to unlinked temporary files, not pipes: `create` leaves the warden
        // running with the same stdout and stderr, so a pipe would never see EOF.
        let out = try Self.scratchFile(), err = try Self.scratchFile()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: Self.contents(out),
                      stderr: String(decoding: Self.contents(err), as: UTF8.self))
    }

    private static func scratchFile() throws -> FileHandle {
        var template = Array("/tmp/safehouse-serve.XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw APIError.internalError("mkstemp: \(String(cString: strerror(errno)))") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        unlink(String(cString: template))
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    private static func contents(_ handle: FileHandle) -> Data {
        let fd = handle.fileDescriptor
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 65536)
        var offset: off_t = 0
        while true {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n <= 0 { break }
            data.append(contentsOf: buffer[0..<n])
            offset += off_t(n)
        }
        return data
    }

    /// `agent spec`: the sandbox's OCI config from the policy, the idle init as its process.
    /// `wardenTimeout` is the warden's own deadline: far out (576 h) when this process
    /// enforces the timeout and may move it, the sandbox's real timeout when nothing
    /// else would stop a sandbox whose owner was killed.
    func spec(policy: String, rootfs: String, env: [String: String], wardenTimeout: String = "576h") throws -> Output {
        var args = ["agent", "spec", "--policy", policy, "--rootfs", rootfs, "--timeout", wardenTimeout]
        for (k, v) in env.sorted(by: { $0.key < $1.key }) { args += ["--env", "\(k)=\(v)"] }
        return try run(args + ["--"] + Self.idleInit, withRoot: false)
    }

    /// The init's pid and status (`safehouse state`), nil when the runtime has no such container.
    func state(_ id: String) -> (pid: Int32, status: String)? {
        guard let out = try? run(["state", id]), out.status == 0,
              let object = try? JSONSerialization.jsonObject(with: out.stdout) as? [String: Any],
              let status = object["status"] as? String else { return nil }
        let pid = (object["pid"] as? NSNumber)?.int32Value ?? 0
        return (pid, status)
    }

    /// Kills everything in the sandbox and removes it; true when the runtime has it no more.
    @discardableResult
    func delete(_ id: String) -> Bool {
        let out = try? run(["delete", "--force", id])
        if out?.status == 0 { return true }
        return state(id) == nil
    }

    /// The argv of `safehouse exec` for a command.
    func execArguments(id: String, argv: [String], cwd: String?, env: [String: String], pidFile: String? = nil) -> [String] {
        var args = ["--root", root, "exec"]
        if let pidFile { args += ["--pid-file", pidFile] }
        if let cwd { args += ["--cwd", cwd] }
        for (k, v) in env.sorted(by: { $0.key < $1.key }) { args += ["--env", "\(k)=\(v)"] }
        return args + [id, "--"] + argv
    }
}
