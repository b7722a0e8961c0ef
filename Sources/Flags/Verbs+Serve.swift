/// `safehouse serve`: the sandbox API, served by the safehouse-serve executable, which
/// this verb execs (it links SwiftNIO and Foundation; the runtime binary does not).
extension Verbs {
    public static let serve = Verb(
        path: "serve", abstract: "Serve the sandbox API (HTTP/1.1, JSON) on a Unix socket, or on TCP with a bearer token.",
        discussion: """
            Sandboxes that live across commands, driven over an API (docs/serve.md, api/openapi.yaml): \
            create, commands (streamed as Server-Sent Events), files, timeouts, kill. Their state is kept \
            under --state-dir, so a restarted service finds them again; a sandbox whose timeout passes is \
            deleted whether or not a client is connected.
            """,
        flags: [
            .option("--socket", value: "path", default: "/run/safehouse/api.sock", help: "Unix socket to listen on (mode 0660)."),
            .option("--listen", value: "host:port", help: "Listen on TCP instead of the socket; needs --token-file."),
            .option("--token-file", value: "path", help: "File whose first line is the bearer token every TCP request must carry (at least 16 characters)."),
            .option("--root", value: "path", default: "/run/safehouse", help: "The runtime's state root the sandboxes are made under."),
            .option("--state-dir", value: "path", default: "/run/safehouse-serve", help: "The service's state: a directory per sandbox."),
            .option("--images", value: "path", repeatable: true,
                    help: "Only root filesystems under this directory (repeatable; default: any directory the service can read)."),
            .option("--runtime", value: "path", help: "The safehouse binary the service runs (default: the one next to safehouse-serve)."),
            .option("--backend", value: "name",
                    help: "native or gvisor: the backend of every sandbox, pinned in its bundle (default: the root's safehouse.conf, else native)."),
            .option("--socket-group", value: "group", help: "The group that owns the socket, so that its members may connect."),
            .option("--warm", value: "policy:rootfs=n", repeatable: true,
                    help: "Keep N sandboxes of this policy and root filesystem (an absolute path) made and idle: a create that asks for both takes one (repeatable; N from 1 to 64)."),
            .option("--snapshots", value: "path", default: "/var/lib/safehouse/snapshots",
                    help: "Where the sandboxes' snapshots are kept, a directory per name (POST /v1/sandboxes/{id}/snapshot)."),
            .flag("--no-inline-policy", help: "Refuse creates whose policy is a document rather than a name (403): sandboxes only from profiles and the policy directory."),
            .option("--mcp-rootfs", value: "path",
                    help: "Serve MCP over streamable HTTP at /mcp (docs/mcp.md), its sandboxes made on this image."),
            .option("--mcp-policy", value: "name", repeatable: true,
                    help: "A profile /mcp's create_sandbox may name (repeatable; the first is the default; default: default)."),
            .option("--mcp-timeout", value: "seconds", default: "3600",
                    help: "The lifetime of a sandbox made through /mcp; a session idle that long ends."),
        ],
        takesGlobals: false)
}
