import Foundation

/// `safehouse serve` / `safehouse-serve` flags.
struct ServeOptions {
    var socket = "/run/safehouse/api.sock"
    var listen: (host: String, port: Int)?
    var tokenFile: String?
    /// The runtime's state root (`safehouse --root`): `agent stop-all` with the same
    /// root finds the service's sandboxes.
    var root = "/run/safehouse"
    /// One directory per sandbox: its record and its bundle.
    var stateDir = "/run/safehouse-serve"
    /// The runtime binary; default: `safehouse` next to this executable.
    var runtime: String?
    /// Directories a sandbox's rootfs must lie under (after symlinks); none: any directory.
    var images: [String] = []
    /// The MCP endpoint's flags (`--mcp-rootfs DIR` -> `--rootfs DIR`), handed on
    /// unread to the executable's endpoint; none: no /mcp.
    var mcpArguments: [String] = []
    /// The backend of every sandbox (native or gvisor); nil: the root's default
    /// (its safehouse.conf, else native).
    var backend: String?
    /// The group that owns the socket (with mode 0660, its members may connect).
    var socketGroup: String?
    /// The warm pools (--warm POLICY:ROOTFS=N), in the order given.
    var warm: [WarmPool.Target] = []
    /// Whether a create may carry a policy document instead of a name.
    var allowInlinePolicy = true
    /// Where the service keeps its sandboxes' snapshots, one directory per name.
    var snapshots = SandboxStore.defaultSnapshots

    static let usage = """
        USAGE: safehouse serve [--socket PATH [--socket-group GROUP]] [--listen HOST:PORT --token-file FILE] [--root DIR] [--state-dir DIR] [--backend native|gvisor] [--warm POLICY:ROOTFS=N]... [--no-inline-policy] [--snapshots DIR]

        Serve the sandbox API (docs/serve.md) over HTTP/1.1.

        OPTIONS:
          --socket PATH        Unix socket to listen on, mode 0660 (default: /run/safehouse/api.sock).
          --listen HOST:PORT   Listen on TCP instead; needs --token-file.
          --token-file FILE    File holding the bearer token every TCP request must carry.
          --root DIR           The runtime's state root (default: /run/safehouse).
          --state-dir DIR      The service's own state, a directory per sandbox (default: /run/safehouse-serve).
          --runtime PATH       The safehouse binary to drive (default: safehouse next to safehouse-serve).
          --images DIR         Only root filesystems under DIR (repeatable; default: any directory).
          --mcp-rootfs DIR     Serve MCP (streamable HTTP) at /mcp; its sandboxes' image (docs/mcp.md).
          --mcp-policy NAME    A profile /mcp's create_sandbox may name (repeatable; default: default).
          --mcp-timeout SECONDS  The lifetime of a sandbox made through /mcp (default: 3600).
          --backend NAME       native or gvisor, for every sandbox (default: the root's safehouse.conf, else native).
          --socket-group GROUP The group that owns the socket (default: the service's).
          --warm POLICY:ROOTFS=N
                               Keep N (1 to 64) idle sandboxes of POLICY on ROOTFS (an absolute path) ready;
                               a create asking for both takes one (repeatable).
          --no-inline-policy   Refuse creates that carry a policy document (403); only named policies.
          --snapshots DIR      Where snapshots are kept, a directory per name (default: /var/lib/safehouse/snapshots).

        """

    struct Failure: Error, CustomStringConvertible { let description: String }

    init(arguments: [String]) throws {
        var i = 0
        func value(_ flag: String) throws -> String {
            i += 1
            guard i < arguments.count else { throw Failure(description: "\(flag) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            let a = arguments[i]
            switch a {
            case "--socket": socket = try value(a)
            case "--listen":
                let v = try value(a)
                guard let colon = v.lastIndex(of: ":"), let port = Int(v[v.index(after: colon)...]), (1...65535).contains(port) else {
                    throw Failure(description: "--listen: \"\(v)\" is not HOST:PORT")
                }
                var host = String(v[..<colon])
                if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
                listen = (host.isEmpty ? "127.0.0.1" : host, port)
            case "--token-file": tokenFile = try value(a)
            case "--root": root = try value(a)
            case "--state-dir": stateDir = try value(a)
            case "--runtime": runtime = try value(a)
            case "--mcp-rootfs", "--mcp-policy", "--mcp-timeout":
                mcpArguments += ["--" + a.dropFirst("--mcp-".count), try value(a)]
            case "--backend":
                let b = try value(a)
                guard b == "native" || b == "gvisor" else { throw Failure(description: "--backend: \"\(b)\" is not native or gvisor") }
                backend = b
            case "--socket-group": socketGroup = try value(a)
            case "--warm":
                let target = try WarmPool.Target(parsing: try value(a))
                guard !warm.contains(where: { $0.key == target.key }) else {
                    throw Failure(description: "--warm: \(target.policy):\(target.rootfs) is given twice")
                }
                warm.append(target)
            case "--no-inline-policy": allowInlinePolicy = false
            case "--snapshots":
                snapshots = try value(a)
                guard snapshots.hasPrefix("/") else { throw Failure(description: "--snapshots: \"\(snapshots)\" is not an absolute path") }
            case "--images":
                let dir = try value(a)
                guard let real = realpath(dir, nil) else { throw Failure(description: "--images: \(dir) does not exist") }
                images.append(String(cString: real))
                free(real)
            default: throw Failure(description: "unknown flag \"\(a)\" (see safehouse serve --help)")
            }
            i += 1
        }
        for target in warm where !images.isEmpty && !images.contains(where: { target.rootfs.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }) {
            throw Failure(description: "--warm: \(target.rootfs) is not under \(images.joined(separator: " or ")) (--images)")
        }
        if !mcpArguments.isEmpty, !mcpArguments.contains("--rootfs") {
            throw Failure(description: "--mcp-rootfs: missing (the image of the sandboxes /mcp makes)")
        }
        if listen != nil, socketGroup != nil {
            throw Failure(description: "--socket-group: only for the Unix socket, not --listen")
        }
        if listen != nil, tokenFile == nil {
            throw Failure(description: "--listen needs --token-file: TCP is served only with a bearer token")
        }
    }

    /// The token from --token-file: its first line, at least 16 characters.
    func token() throws -> String? {
        guard let tokenFile else { return nil }
        guard let data = FileManager.default.contents(atPath: tokenFile),
              let text = String(data: data, encoding: .utf8) else {
            throw Failure(description: "--token-file: cannot read \(tokenFile)")
        }
        let token = text.split(whereSeparator: \.isNewline).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard token.count >= 16 else {
            throw Failure(description: "--token-file: the token in \(tokenFile) is shorter than 16 characters")
        }
        return token
    }
}
