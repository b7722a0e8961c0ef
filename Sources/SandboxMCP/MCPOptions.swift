import Foundation
import Serve

/// `safehouse mcp` / `safehouse-mcp` flags: everything a sandbox may be made from is
/// the operator's choice here; the model picks among these, never writes a policy.
public struct MCPOptions {
    /// The profiles (policy names) `create_sandbox` may name; the first is the default
    /// sandbox's. Never a file: names as the service takes them.
    public var policies: [String] = []
    /// The default image (root filesystem) of a sandbox.
    public var rootfs: String?
    /// Directories under which `create_sandbox` may name another image; none: only --rootfs.
    public var images: [String] = []
    /// A sandbox's lifetime in seconds.
    public var timeout = 3600
    public var root = "/run/safehouse"
    /// Where this server's records go: a directory of its own under it, removed at exit.
    public var stateDir = "/run/safehouse-mcp"
    public var runtime: String?

    public static let usage = """
        USAGE: safehouse mcp --rootfs DIR [--policy NAME]... [--images DIR]... [--timeout SECONDS] [--root DIR] [--state-dir DIR]

        Serve sandboxes to an MCP client over stdio (docs/mcp.md): run_code, run_command,
        read_file, write_file, list_files, create_sandbox, kill_sandbox. Every sandbox of the
        session is killed when the client goes away.

        OPTIONS:
          --rootfs DIR         The image of a sandbox (its root filesystem), read-only (required).
          --policy NAME        A profile create_sandbox may name (repeatable; the first is the default; default: default).
          --images DIR         create_sandbox may name an image under DIR (repeatable; default: only --rootfs).
          --timeout SECONDS    A sandbox's lifetime, 1 to 86400 (default: 3600).
          --root DIR           The runtime's state root (default: /run/safehouse).
          --state-dir DIR      This server's records go in a directory of their own under DIR (default: /run/safehouse-mcp).
          --runtime PATH       The safehouse binary to drive (default: safehouse next to safehouse-mcp).

        """

    public struct Failure: Error, CustomStringConvertible { public let description: String }

    public init(arguments: [String]) throws {
        var i = 0
        var rootfsResolved = ""
        func value(_ flag: String) throws -> String {
            i += 1
            guard i < arguments.count else { throw Failure(description: "\(flag) needs a value") }
            return arguments[i]
        }
        func directory(_ flag: String, _ path: String) throws -> String {
            guard path.hasPrefix("/") else { throw Failure(description: "\(flag): \"\(path)\" is not absolute") }
            guard let real = realpath(path, nil) else { throw Failure(description: "\(flag): \(path) does not exist") }
            defer { free(real) }
            var isDir: ObjCBool = false
            let resolved = String(cString: real)
            guard FileManager.default.fileExists(atPath: resolved, isDirectory: &isDir), isDir.boolValue else {
                throw Failure(description: "\(flag): \(path) is not a directory")
            }
            return resolved
        }
        while i < arguments.count {
            let a = arguments[i]
            switch a {
            case "--policy":
                let name = try value(a)
                guard SandboxHost.isPolicyName(name) else {
                    throw Failure(description: "--policy: \"\(name)\" is not a policy name (a profile or a policy in the policy directory; no paths)")
                }
                if !policies.contains(name) { policies.append(name) }
            case "--rootfs":
                let path = try value(a)
                rootfsResolved = try directory(a, path)
                rootfs = path
            case "--images": images.append(try directory(a, try value(a)))
            case "--timeout":
                let v = try value(a)
                guard let n = Int(v), (1...86_400).contains(n) else {
                    throw Failure(description: "--timeout: \"\(v)\" is not a whole number of seconds from 1 to 86400")
                }
                timeout = n
            case "--root": root = try value(a)
            case "--state-dir": stateDir = try value(a)
            case "--runtime": runtime = try value(a)
            default: throw Failure(description: "unknown flag \"\(a)\" (see safehouse mcp --help)")
            }
            i += 1
        }
        guard let rootfs else { throw Failure(description: "--rootfs: missing (the image sandboxes are made from)") }
        // Every sandbox's image must lie under --images when given, the default one's too.
        if !images.isEmpty, !images.contains(where: { rootfsResolved.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) {
            throw Failure(description: "--rootfs: \(rootfs) is not under \(images.joined(separator: " or ")) (--images)")
        }
        if policies.isEmpty { policies = ["default"] }
    }
}
