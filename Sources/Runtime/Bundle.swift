import ContainerCore
import FoundationEssentials
import Linux
import OCI
import Sandbox
#if canImport(Glibc)
import Glibc
#endif

/// An OCI bundle: a directory with `config.json` and the root filesystem it names.
struct Bundle {
    /// Absolute path of the bundle directory.
    let path: String
    /// The spec the container is made from: config.json's, or the sandbox provider's
    /// rewrite of it (ContainerRuntime.prepared); the file itself is never rewritten.
    var spec: Spec
    /// The config.json bytes as read (a plain copy, cheaper than encoding the spec),
    /// or the rewritten spec's: kept with the container's state for `exec`, which
    /// starts from its process.
    var configBytes: [UInt8]
    /// What the provider's rewrite asks beyond the spec (a second seccomp filter).
    var overlay: SandboxOverlay?
    /// Absolute host path of the root filesystem.
    let rootfs: String

    /// Reads, decodes and validates `config.json`: every problem is reported before
    /// anything is created.
    static func load(_ given: String) throws -> Bundle {
        let path = absolute(given.isEmpty ? "." : given)
        guard Files.isDirectory(path) else {
            throw RuntimeError("bundle \(path): not a directory")
        }
        let configPath = path + "/config.json"
        let bytes: [UInt8]
        do {
            bytes = try Files.read(configPath, limit: 16 << 20)
        } catch let e as SystemError where e.errno == EFBIG {
            throw RuntimeError("\(configPath): larger than 16 MiB")
        } catch {
            throw RuntimeError("\(error)")
        }
        let spec = try stage(configPath) { try Spec.decode(from: Data(bytes)) }
        // runc's words for a config it refuses, which engines and scripts match on,
        // then the field.
        try stage("\(configPath): invalid configuration") { try spec.validate() }
        guard let root = spec.root?.path, !root.isEmpty else {
            throw RuntimeError("\(configPath): root.path: is required")
        }
        let rootfs: String
        if root.hasPrefix("/") {
            rootfs = PathText.normalize(root)
        } else {
            rootfs = PathText.normalize(path + "/" + root)
            // A relative root must stay inside the bundle.
            guard rootfs == path || rootfs.hasPrefix(path + "/") else {
                throw RuntimeError("\(configPath): root.path: \(root) escapes the bundle")
            }
        }
        guard Files.isDirectory(rootfs) else {
            throw RuntimeError("\(configPath): root.path: \(rootfs) is not a directory")
        }
        return Bundle(path: path, spec: spec, configBytes: bytes, rootfs: rootfs)
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return PathText.normalize(path) }
        var buf = [CChar](repeating: 0, count: 4096)
        guard getcwd(&buf, buf.count) != nil else { return PathText.normalize("/" + path) }
        return PathText.normalize(String(cString: buf) + "/" + path)
    }

    /// The process a container is created with, from `spec` (this bundle's, as the
    /// engine will run it); a terminal needs somewhere to send its pty master.
    func processToCreate(_ spec: Spec, terminalHasSocket: Bool) throws -> Process {
        guard let process = spec.process else {
            throw RuntimeError("\(path)/config.json: process: is required to create a container")
        }
        if process.terminal ?? false, !terminalHasSocket {
            throw RuntimeError("process.terminal is true: cannot allocate a terminal without --console-socket")
        }
        return process
    }

    /// Writes `pid` to `--pid-file PATH` (relative to the working directory), whole
    /// or not at all.
    static func writePidFile(_ path: String, pid: Int32) throws {
        try stage("--pid-file \(path)") { try Files.writeAtomically(absolute(path), Array(String(pid).utf8), mode: 0o644) }
    }
}
