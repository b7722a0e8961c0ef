import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Drives sandboxes by running the `safehouse` binary: the runtime is single-threaded
/// and forks, so this process (NIO threads) never links it; ChildProcess spawns
/// (posix_spawn), it does not fork Swift code.
struct RuntimeClient {
    let executable: String
    let root: String
    /// `--backend` for `agent spec` (which pins it in the bundle's annotations); nil:
    /// the root's default.
    var backend: String? = nil

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
        // Output goes to unlinked temporary files, not pipes: `create` leaves the warden
        // running with the same stdout and stderr, so a pipe would never see EOF.
        let out = try Self.scratchFile()
        defer { close(out) }
        let err = try Self.scratchFile()
        defer { close(err) }
        let null = try ChildProcess.devNull()
        defer { close(null) }
        let child = try ChildProcess.start(executable, (withRoot ? ["--root", root] : []) + arguments,
                                           stdin: null, stdout: out, stderr: err)
        let status = child.wait()
        return Output(status: status, stdout: Self.contents(out), stderr: String(decoding: Self.contents(err), as: UTF8.self))
    }

    static func scratchFile() throws -> Int32 {
        var template = Array("/tmp/safehouse-serve.XXXXXX".utf8CString)
        let fd = mkstemp(&template)
        guard fd >= 0 else { throw APIError.internalError("mkstemp: \(String(cString: strerror(errno)))") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        unlink(String(cString: template))
        return fd
    }

    static func contents(_ fd: Int32) -> Data {
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

    /// `agent spec`: the sandbox's OCI config from the policy, the idle init as its
    /// process. The sandbox's env is not in it: each command gets it (SpecCache). With
    /// `image`, the image's config is applied as `agent run --image` applies it (its
    /// root mounted at `rootfs`).
    func spec(policy: String, rootfs: String, image: String? = nil) throws -> Output {
        var args = ["agent", "spec", "--policy", policy, "--rootfs", rootfs, "--timeout", "576h"]
        if let image { args += ["--image", image] }
        return try run((backend.map { ["--backend", $0] } ?? []) + args + ["--"] + Self.idleInit, withRoot: false)
    }

    /// The init's pid and status (`safehouse state`), nil when the runtime has no such container.
    func state(_ id: String) -> (pid: Int32, status: String)? {
        guard let out = try? run(["state", id]), out.status == 0,
              let object = try? JSONSerialization.jsonObject(with: out.stdout) as? [String: Any],
              let status = object["status"] as? String else { return nil }
        let pid = (object["pid"] as? NSNumber)?.int32Value ?? 0
        return (pid, status)
    }

    /// The backend a sandbox made now gets: `backend`, else the root's default as
    /// `safehouse --root ROOT features` reports it.
    func effectiveBackend() -> String {
        if let backend { return backend }
        guard let out = try? run(["features"]), out.status == 0,
              let object = try? JSONSerialization.jsonObject(with: out.stdout) as? [String: Any],
              let annotations = object["annotations"] as? [String: Any],
              let name = annotations["io.safehouse.backend"] as? String else { return "native" }
        return name
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
